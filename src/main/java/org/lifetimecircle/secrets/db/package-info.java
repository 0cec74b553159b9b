/**
 * The database as the service uses it, and the persistence rule every feature follows.
 *
 * <h2>Three ways to reach the database</h2>
 * <ol>
 *   <li><b>Panache entities and JPQL</b> (the default). Anything that changes rows for a request or
 *   a job, inside a unit on the single audit writer ({@code audit.AuditWriter}, {@code audit.Unit}),
 *   and reads made in a transaction (a writer unit, or {@link ReadTransaction} for a consistent read
 *   outside one). Entities and repositories live in the feature that owns their table.</li>
 *   <li><b>Native SQL through the {@code EntityManager}</b>. Where JPQL cannot say it or says it badly
 *   (a conditional update that must report "0 rows", an upsert, a join over columns no entity maps,
 *   a JSON field of an audit event), but the statement must still run in the current transaction:
 *   inside a writer unit so it commits with its event, or in a {@link ReadTransaction}.</li>
 *   <li><b>Plain JDBC on a pooled connection</b>, for three reasons only, each said where it is used:
 *     <ul>
 *       <li>the audit writer's own connection: a batch of event-only units is appended with plain
 *       JDBC, without a JTA transaction or a Hibernate session, because the writer thread is the one
 *       serial step of every audited request; the access-table updates that go with an event
 *       ({@code access.UseCounts}) run on that same connection so they commit with it;</li>
 *       <li>hot read paths that run on every request or fetch, one autocommit statement, no
 *       transaction: the token and grant lookups ({@code access.AccessLookups}), the readable
 *       versions of an environment for serving its env file ({@code secret.SecretVersionRows});
 *       and the health probe, which must find out whether the database takes a write without
 *       queueing behind the writer (its one row is no audited state);</li>
 *       <li>work outside the ORM's life cycle: start-up paths before the writer runs (installation
 *       keys), the audit reader, verifier, archiver, exporter and checkpoints that stream the chain,
 *       the master-key re-wrap (a whole-database pass inside one writer unit),
 *       and SQLite statements Hibernate does not issue ({@link WalTruncation}).</li>
 *     </ul>
 *   Plain JDBC is never used for a change that needs an audit event unless it runs on the writer's
 *   connection (the event and the change commit together, or neither does).</li>
 * </ol>
 *
 * <h2>Where SQL lives</h2>
 * Each table's SQL stays in the feature that owns the table; another feature calls a small method of
 * the owner rather than writing to (or querying) its table: the audit writer counts a grant's use
 * through {@code access.UseCounts}, the scheduler marks an expiry through {@code access.Expiring}, the
 * access review reads the trail through {@code audit.GrantUseEvents}. SQL that is
 * specific to SQLite is kept in one place per feature, so a second database (PostgreSQL) adds its
 * variant there and nowhere else. Today's SQLite-specific SQL:
 * <ul>
 *   <li>connection settings in the JDBC URL ({@code journal_mode=WAL}, {@code synchronous=FULL},
 *   {@code busy_timeout}, {@code foreign_keys}, {@code secure_delete}) and the dialect
 *   ({@link SecretsSQLiteDialect}, {@link EpochMillisInstantJdbcType}: instants as epoch milliseconds);</li>
 *   <li>{@code PRAGMA wal_checkpoint(TRUNCATE)} ({@link WalTruncation}), {@code VACUUM INTO} (the
 *   backup script, outside the service);</li>
 *   <li>{@code INSERT OR REPLACE} (health probe row, {@code health.ServiceHealth});
 *   {@code json_extract} over audit event details ({@code audit.GrantUseEvents});</li>
 *   <li>the append-only triggers of {@code audit_event} and {@code audit_anchor} (Flyway migrations,
 *   {@code RAISE(ABORT, …)});</li>
 *   <li>SQLite's single writer, which the audit writer's queue, group commit and savepoints issued as
 *   SQL are built around ({@code audit.AuditWriter}).</li>
 * </ul>
 * Everything else is plain SQL ({@code INSERT … ON CONFLICT … DO UPDATE}, {@code LIMIT}) that
 * PostgreSQL also runs.
 *
 * <p>This package holds what SQLite needs beyond Hibernate's defaults (the dialect, epoch-millisecond instants, WAL
 * truncation) and {@link ReadTransaction}.
 *
 * <p>May use: no other package of the service.
 */
package org.lifetimecircle.secrets.db;
