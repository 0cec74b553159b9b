/**
 * {@code GET /health} and {@code /q/health/ready}: whether the service can do its job.
 *
 * <p>May use: audit, auth, crypto, ha, policy, rotation, startup.
 */
package org.lifetimecircle.secrets.health;
