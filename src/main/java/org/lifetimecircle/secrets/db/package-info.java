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
 *       versions of an environment for serving its env file ({@code secret.SecretVersionRows}), both
 *       through {@link HotReads}, which keeps their prepared statements per SQLite connection (never rows:
 *       every read goes to the database, so a revocation counts from the next request);
 *       and the health probe, which must find out whether the database takes a write without
 *       queueing behind the writer (its one row is no audited state);</li>
 *       <li>work outside the ORM's life cycle: start-up paths before the writer runs (installation
 *       keys, {@link Migrations}' check that the schema is current), the active/standby lock session ({@code ha.Leadership}: its own connection, outside the
 *       pool) and the epoch fence the writer runs first in each of its transactions
 *       ({@code ha.EpochFence}), the audit reader, verifier, archiver, exporter and checkpoints that
 *       stream the chain,
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
 * access review reads the trail through {@code audit.GrantUseEvents}.
 *
 * <h2>Two stores, one jar</h2>
 * {@code ltc-secrets.store} is {@code sqlite} (the default) or {@code postgresql}. Quarkus fixes the JDBC driver,
 * the dialect and the persistence unit at build time, and Panache entities belong to one persistence unit, so there
 * is one datasource and one unit either way: {@link StoreDriver} hands each URL to SQLite's or PostgreSQL's driver
 * (and gives PostgreSQL sessions their settings: REPEATABLE READ, streamed result sets), the one dialect
 * ({@link SecretsSQLiteDialect}) emits only SQL both accept (the suite runs on both to prove it: entities use text,
 * integers, bytes and epoch-millisecond instants, ids come back with {@code INSERT … RETURNING}), and
 * {@link Migrations} runs the store's own directory ({@code db/migration/sqlite}, {@code db/migration/postgresql};
 * a change is a migration of the same version in each). SQL is written so both stores run it: positional
 * {@code ?} in plain JDBC, {@code INSERT … ON CONFLICT … DO UPDATE}, {@code LIMIT}. What cannot be said the same
 * way is asked of {@link Store} ({@link Stores} produces the running one), never decided by a feature:
 * <ul>
 *   <li>JSON over audit event details ({@code audit.GrantUseEvents}) and the packed audit row the exporter,
 *   verifier and archiver read ({@code audit.EventRows});</li>
 *   <li>a connection of its own outside the pool for exports and verifications ({@code audit.AuditExports}).</li>
 * </ul>
 * SQLite-only, with nothing to do on PostgreSQL: the connection settings in its JDBC URL ({@code journal_mode=WAL},
 * {@code synchronous=FULL}, {@code busy_timeout}, {@code foreign_keys}, {@code secure_delete}), {@code PRAGMA
 * wal_checkpoint(TRUNCATE)} ({@link WalTruncation}, a no-op on PostgreSQL, whose WAL and dead rows are the server's:
 * docs/postgresql.md), {@code VACUUM INTO} (the backup script; PostgreSQL's is {@code pg_dump}) and the private
 * database files ({@code startup.DatabaseFiles}). The append-only triggers are in each store's own migrations. The
 * audit writer's queue, group commit and savepoints are plain SQL both run.
 *
 * <p>This package holds the stores' differences, what SQLite needs beyond Hibernate's defaults (the dialect,
 * epoch-millisecond instants, WAL truncation), the migrations and {@link ReadTransaction}.
 *
 * <p>May use: no other package of the service.
 */
package org.lifetimecircle.secrets.db;
