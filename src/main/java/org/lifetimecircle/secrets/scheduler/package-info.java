/**
 * The scheduler's periodic jobs (pending rotations, due states and overdue secrets, grace ends, drift checks,
 * expiries, audit archiving) and their metrics.
 *
 * <p>May use: access, alert, approval, audit, config, db, envfile, ha, policy, rotation, secret, startup, web.
 */
package org.lifetimecircle.secrets.scheduler;
