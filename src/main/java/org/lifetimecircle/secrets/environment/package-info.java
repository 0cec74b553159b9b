/**
 * The environment endpoints: which environments the policies define, and each one's status.
 *
 * <p>May use: audit, auth, envfile, policy, secret.
 */
package org.lifetimecircle.secrets.environment;
