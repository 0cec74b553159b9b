/**
 * Master-key rotation at start: everything sealed under the previous key is re-wrapped under the new one
 * in one audited unit.
 *
 * <p>May use: audit, config, crypto, db.
 */
package org.lifetimecircle.secrets.masterkey;
