/**
 * The go-live preflight of an environment: one call that checks everything a deploy depends on.
 *
 * <p>May use: audit, auth, config, crypto, db, envfile, files, policy, rotation, secret, web.
 */
package org.lifetimecircle.secrets.preflight;
