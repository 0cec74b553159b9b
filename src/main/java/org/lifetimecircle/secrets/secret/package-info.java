/**
 * Secret versions: sealed storage, their states, the CURRENT and PREVIOUS values an env file is rendered
 * from, age metrics, and the versions endpoint.
 *
 * <p>May use: audit, auth, crypto, db, policy, web.
 */
package org.lifetimecircle.secrets.secret;
