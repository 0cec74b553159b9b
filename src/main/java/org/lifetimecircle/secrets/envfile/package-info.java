/**
 * Env files: rendering from the CURRENT versions, the atomic write and the record of what was written, the
 * check of a written file on disk, and the env-file endpoints.
 *
 * <p>May use: audit, auth, config, crypto, files, policy, restorehold, secret, web.
 */
package org.lifetimecircle.secrets.envfile;
