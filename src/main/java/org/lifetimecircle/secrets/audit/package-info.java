/**
 * The tamper-evident audit trail: the single writer and its hash chain, signed checkpoints, verification,
 * export, archive, and the {@code /audit} endpoints.
 *
 * <p>May use: auth, config, crypto, db, files, web.
 */
package org.lifetimecircle.secrets.audit;
