/**
 * The hold a restore leaves: no env file is written or served until an admin releases it, which then asks
 * for every env file to be brought up to date through {@link EnvFileSync}.
 *
 * <p>May use: audit, auth, config, files, policy, web.
 */
package org.lifetimecircle.secrets.restorehold;
