/**
 * {@code GET /health} and {@code /q/health/ready}: whether the service can do its job.
 *
 * <p>May use: audit, auth, crypto, ha, policy, startup.
 */
package org.lifetimecircle.secrets.health;
