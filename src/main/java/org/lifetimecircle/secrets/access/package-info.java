/**
 * Principals, their tokens and access grants, the bootstrap admin, the access review, and
 * {@link AuthFilter}, the one place every request is authenticated and authorised.
 *
 * <p>May use: alert, audit, auth, config, crypto, db, files, policy, web.
 */
package org.lifetimecircle.secrets.access;
