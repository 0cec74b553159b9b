/**
 * Rotations: the engine and its journal, scheduled, manual, emergency and import rotations, incidents, and
 * the restart of the application that reads the env file.
 *
 * <p>May use: access, alert, audit, auth, config, crypto, db, envfile, files, policy, restorehold, secret, web.
 */
package org.lifetimecircle.secrets.rotation;
