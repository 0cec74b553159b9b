/**
 * Active/standby on a shared PostgreSQL store: which instance is active (it holds a PostgreSQL advisory lock on
 * a session of its own), the epoch that fences an old active out of the audit writer, and the gate that answers
 * a standby's {@code /api/v1} requests with 503 {@code standby}. On SQLite the one instance is always active and
 * none of this touches the database.
 *
 * <p>May use: audit, config, db, web.
 */
package org.lifetimecircle.secrets.ha;
