package org.lifetimecircle.secrets.audit;

import io.agroal.api.AgroalDataSource;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.hibernate.Session;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.db.ReadTransaction;

/**
 * The single writer of the database. SQLite has one writer at a time, so rather than letting
 * requests queue inside SQLite's lock, units of work queue here: one thread takes as many as are
 * waiting, runs each in its own savepoint, appends its audit event (so it gets its place in the
 * chain), and commits them all with one durable commit (group commit). A unit that fails is rolled
 * back to its savepoint without disturbing the others. Each caller is answered only after the
 * commit that holds its unit, so an acknowledged change and its event are both durable.
 *
 * <p>Most units are only an event (every read is audited), so a batch of nothing but events takes a
 * shorter path: plain JDBC on one pooled connection, with neither a JTA transaction nor a Hibernate
 * session, no savepoints unless an event fails ({@link #runEvents}) and the same durable commit. This thread is the one serial
 * step of every audited request, so what it does per batch and per unit bounds the service's rate.
 *
 * <p>Each of its transactions first asks the {@link CommitFence} whether this instance may still commit (on a
 * shared PostgreSQL store, only the active instance of the current epoch may); if not, the batch is refused.
 */
@ApplicationScoped
public class AuditWriter {

    private static final Logger LOG = Logger.getLogger(AuditWriter.class);
    static final int MAX_BATCH = 256;
    private static final long SUBMIT_TIMEOUT_SECONDS = 30;
    private static final String INSERT = "insert into audit_event (seq, time, actor, action, environment, target, "
            + "outcome, request_id, source_ip, details, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private final BlockingQueue<Pending<?>> queue = new LinkedBlockingQueue<>(10_000);
    private final EntityManager em;
    private final AgroalDataSource dataSource;
    private final Clock clock;
    private final EventUses.Factory uses;
    private final CommitFence fence;
    private volatile boolean running;
    private volatile Thread thread;
    /** Only the writer thread changes it; volatile so readers (metrics, tests) see a recent value. */
    private volatile ChainHead head = ChainHead.EMPTY;
    /** Units refused because their event could not be written (disk full, read-only, I/O error). */
    private final AtomicLong refusedUnits = new AtomicLong();
    /** Savepoint name counter; writer thread only. */
    private long savepoints;

    AuditWriter(EntityManager em, AgroalDataSource dataSource, EventUses.Factory uses, CommitFence fence, Clock clock) {
        this.em = em;
        this.fence = fence;
        this.uses = uses;
        this.dataSource = dataSource;
        this.clock = clock;
    }

    /** Starts the writer thread on the chain's current head (read from the database). */
    public synchronized void start() {
        if (running) {
            return;
        }
        head = ReadTransaction.read(() -> em.unwrap(Session.class).doReturningWork(AuditWriter::readHead));
        running = true;
        thread = new Thread(this::loop, "audit-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops after the queued units are written. */
    public synchronized void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(SUBMIT_TIMEOUT_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether the writer runs (only on the active instance, from the start's active part on). */
    public boolean running() {
        return running;
    }

    /** How many units were refused since the start because the audit trail could not be written. */
    public long refusedUnits() {
        return refusedUnits.get();
    }

    /** How many units wait for the writer (tests: to know a batch is queued before letting the writer on). */
    int queued() {
        return queue.size();
    }

    /** The last committed event. */
    public ChainHead head() {
        return head;
    }

    /**
     * Runs the unit on the writer and waits until it is durable. Returns the work's result, or
     * throws what the work threw (after its failure event is durable), or
     * {@link AuditUnavailableException} if the event could not be written (nothing changed).
     */
    public <R> R submit(Unit<R> unit) {
        return submit(new Pending<>(unit, null), Duration.ofSeconds(SUBMIT_TIMEOUT_SECONDS * 2));
    }

    /** {@link #submit(Unit)} with another wait for the answer than the usual one (tests). */
    <R> R submit(Unit<R> unit, Duration answerWithin) {
        return submit(new Pending<>(unit, null), answerWithin);
    }

    /**
     * A caller that gives up waiting withdraws its unit if the writer has not started it: an
     * {@link AuditUnavailableException} then really means nothing changed (a unit left in the queue
     * would commit later, unseen: a rotation accepted that way had no job and blocked every retry).
     * A unit the writer already runs is waited for once more, since its commit is under way.
     */
    private <R> R submit(Pending<R> pending, Duration answerWithin) {
        if (!running) {
            throw new AuditUnavailableException("audit trail is not accepting events");
        }
        try {
            if (!queue.offer(pending, SUBMIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new AuditUnavailableException("audit writer queue is full");
            }
            try {
                return pending.result.get(answerWithin.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | InterruptedException e) {
                if (pending.withdraw()) {
                    throw e;
                }
                LOG.warnf("audit writer: a unit is slow to commit; waiting once more for its outcome");
                return outcomeOfStarted(pending, answerWithin, e instanceof InterruptedException);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuditUnavailableException("interrupted while waiting for the audit trail");
        } catch (TimeoutException e) {
            if (!pending.withdrawn()) {
                LOG.errorf("audit writer: a unit started but its commit did not answer in time; its outcome is "
                        + "unknown to its caller");
            }
            throw new AuditUnavailableException("audit trail did not answer in time");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new AuditUnavailableException("audit write failed");
        }
    }

    /**
     * Waits for the outcome of a unit the writer already runs, even if the caller is interrupted: its
     * commit is under way, and a caller told "refused" would take a committed unit for one that
     * changed nothing (the auth-denial flusher, interrupted at shutdown, then counted its 401s twice).
     * The interrupt is kept for the caller.
     */
    private static <R> R outcomeOfStarted(Pending<R> pending, Duration answerWithin, boolean interrupted)
            throws TimeoutException, ExecutionException {
        long deadline = System.nanoTime() + answerWithin.toNanos();
        try {
            while (true) {
                try {
                    return pending.result.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException again) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Records an event that goes with no change (a read, a denial). */
    public void record(AuditDraft draft) {
        // The details' canonical JSON does not depend on the event's place in the chain: made here, on
        // the caller's thread, it is work the single writer thread does not have to do.
        String details;
        try {
            details = ChainHash.canonicalDetails(draft.details());
        } catch (RuntimeException e) {
            LOG.errorf("audit writer: cannot record %s (%s)", draft.action(), rootCause(e));
            throw new AuditUnavailableException("audit write failed");
        }
        submit(new Pending<>(Unit.eventOnly(draft), details), Duration.ofSeconds(SUBMIT_TIMEOUT_SECONDS * 2));
    }

    private void loop() {
        List<Pending<?>> batch = new ArrayList<>(MAX_BATCH);
        while (running || !queue.isEmpty()) {
            try {
                Pending<?> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                // Units whose callers gave up before they started are skipped: they change nothing.
                batch.removeIf(p -> !p.start());
                if (!batch.isEmpty()) {
                    runBatch(batch);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                // Never let the writer die: callers would wait forever.
                LOG.error("audit writer: unexpected failure", e);
                batch.forEach(p -> p.result.completeExceptionally(new AuditUnavailableException("audit write failed")));
            } finally {
                batch.clear();
            }
        }
    }

    private void runBatch(List<Pending<?>> batch) {
        long refusedBefore = refusedUnits.get();
        try {
            runBatchOnce(batch);
        } finally {
            if (refusedUnits.get() != refusedBefore) {
                renewConnections();
            }
        }
    }

    /**
     * After a write the database refused, connections are opened afresh. A connection SQLite opened while
     * the data directory was read-only is read-only for good (SQLite falls back to opening the file
     * read-only); kept in the pool, it would refuse every write long after the fault cleared. Idle
     * connections (the writer's own is back in the pool by now) close at once, busy ones when returned.
     */
    private void renewConnections() {
        try {
            dataSource.flush(AgroalDataSource.FlushMode.GRACEFUL);
        } catch (RuntimeException e) {
            LOG.errorf("audit writer: could not renew the database connections (%s)", rootCause(e));
        }
    }

    private void runBatchOnce(List<Pending<?>> batch) {
        ChainHead committed = head;
        try {
            if (batch.stream().allMatch(p -> p.unit.eventOnly())) {
                runEvents(batch);
            } else {
                QuarkusTransaction.requiringNew().run(() -> {
                    Session session = em.unwrap(Session.class);
                    // First, so the fence's row lock covers everything this transaction writes.
                    session.doWork(fence::check);
                    for (Pending<?> p : batch) {
                        runUnit(session, p);
                    }
                    session.flush();
                });
            }
        } catch (SQLException | RuntimeException e) {
            head = committed;
            LOG.errorf("audit writer: commit of %d unit(s) failed (%s); all refused, nothing changed",
                    batch.size(), rootCause(e));
            // The whole trace only at DEBUG: a JTA RollbackException's cause is the stack of whoever marked the
            // transaction rollback-only, which is the one way to tell which unit poisoned the batch.
            LOG.debug("audit writer: the failed commit", e);
            refusedUnits.addAndGet(batch.size());
            batch.forEach(p -> p.result.completeExceptionally(new AuditUnavailableException("audit write failed")));
            return;
        }
        batch.forEach(Pending::complete);
    }

    /**
     * A batch of event-only units: plain JDBC, one durable commit. First without savepoints, the uses summed per
     * grant and token (two statements per event fewer, and one update per grant instead of one per event); if an
     * event cannot be written that way, the transaction is rolled back and the batch is run again with one
     * savepoint per unit, so only the units whose event fails are refused, as before.
     */
    private void runEvents(List<Pending<?>> batch) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                ChainHead before = head;
                boolean whole;
                try (Statements st = new Statements(c, uses)) {
                    fence.check(c);
                    whole = appendAll(st, batch);
                    if (whole) {
                        st.writeTokenUses();
                        c.commit();
                    }
                }
                if (!whole) {
                    c.rollback();
                    head = before;
                    try (Statements st = new Statements(c, uses)) {
                        fence.check(c);
                        for (Pending<?> p : batch) {
                            appendEvent(st, p);
                        }
                        st.writeTokenUses();
                        c.commit();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** Appends every unit's event and its grant uses without savepoints; false (nothing to keep) if one fails. */
    private boolean appendAll(Statements st, List<Pending<?>> batch) {
        try {
            for (Pending<?> p : batch) {
                AuditDraft draft = p.unit.onSuccess().apply(null);
                st.tokenUsed(draft.tokenUse(), append(st, draft, p.details));
                p.outcome(null, null);
            }
            st.uses.writeGrantUses();
            return true;
        } catch (SQLException | RuntimeException e) {
            LOG.warnf("audit writer: a batch of %d event(s) failed (%s); retrying it one event at a time",
                    batch.size(), rootCause(e));
            return false;
        }
    }

    private <R> void appendEvent(Statements st, Pending<R> p) throws SQLException {
        ChainHead before = head;
        st.execute("SAVEPOINT event");
        try {
            AuditDraft draft = p.unit.onSuccess().apply(null);
            long at = append(st, draft, p.details);
            st.uses.writeGrantUses();
            st.execute("RELEASE event");
            // Noted only once the event stands; written once per token for the whole batch, before its commit.
            st.tokenUsed(draft.tokenUse(), at);
            p.outcome(null, null);
        } catch (SQLException | RuntimeException e) {
            st.uses.forgetGrantUses();
            st.execute("ROLLBACK TO event");
            st.execute("RELEASE event");
            head = before;
            LOG.errorf("audit writer: cannot record an event (%s)", rootCause(e));
            refusedUnits.incrementAndGet();
            p.outcome(null, new AuditUnavailableException("audit write failed"));
        }
    }

    private <R> void runUnit(Session session, Pending<R> p) {
        ChainHead before = head;
        String sp = savepoint(session);
        R result;
        try {
            result = p.unit.work().get();
            session.flush();
        } catch (RuntimeException e) {
            refuse(session, p, sp, before, e);
            return;
        }
        try {
            append(session, p.unit.onSuccess().apply(result), p.details);
            p.outcome(result, null);
        } catch (RuntimeException auditFailure) {
            // The change worked but its event cannot be written: undo the change (fail closed).
            rollbackTo(session, sp);
            head = before;
            LOG.errorf("audit writer: cannot record a unit's event (%s); its change is undone", rootCause(auditFailure));
            refusedUnits.incrementAndGet();
            p.outcome(null, new AuditUnavailableException("audit write failed"));
        }
    }

    /** The unit's work refused or failed: undo it and record the failure event, if the unit has one. */
    private <R> void refuse(Session session, Pending<R> p, String sp, ChainHead before, RuntimeException e) {
        rollbackTo(session, sp);
        head = before;
        RuntimeException toCaller = e;
        AuditDraft failure = p.unit.onFailure() == null ? null : p.unit.onFailure().apply(e);
        if (failure != null) {
            String sp2 = savepoint(session);
            try {
                append(session, failure, null);
            } catch (RuntimeException auditFailure) {
                rollbackTo(session, sp2);
                head = before;
                LOG.errorf("audit writer: cannot record %s (%s)", failure.action(), rootCause(auditFailure));
                refusedUnits.incrementAndGet();
                toCaller = new AuditUnavailableException("audit write failed");
            }
        }
        p.outcome(null, toCaller);
    }

    private void append(Session session, AuditDraft d, String canonicalDetails) {
        session.doWork(c -> {
            try (Statements st = new Statements(c, uses)) {
                // Inside the unit's savepoint: undone with the event if the unit is rolled back.
                st.tokenUsed(d.tokenUse(), append(st, d, canonicalDetails));
                st.uses.writeGrantUses();
                st.writeTokenUses();
            }
        });
    }

    /**
     * Appends the event at the head of the chain and, for a successful use of a grant, counts the use
     * (the access review's "did they use it", kept with the event in the same commit). Returns the
     * event's time in epoch milliseconds.
     */
    private long append(Statements st, AuditDraft d, String canonicalDetails) throws SQLException {
        long seq = head.seq() + 1;
        long at = clock.millis();
        String time = ChainHash.time(java.time.Instant.ofEpochMilli(at));
        String details = canonicalDetails != null ? canonicalDetails : ChainHash.canonicalDetails(d.details());
        String hash = ChainHash.hash(seq, time, d.actor(), d.action(), d.environment(), d.target(), d.outcome().name(),
                d.requestId(), d.sourceIp(), details, head.hash());
        PreparedStatement ps = st.insert();
        ps.setLong(1, seq);
        ps.setString(2, time);
        ps.setString(3, d.actor());
        ps.setString(4, d.action());
        ps.setString(5, d.environment());
        ps.setString(6, d.target());
        ps.setString(7, d.outcome().name());
        ps.setString(8, d.requestId());
        ps.setString(9, d.sourceIp());
        ps.setString(10, details);
        ps.setString(11, head.hash());
        ps.setString(12, hash);
        ps.executeUpdate();
        if (d.grantUse() != null && d.outcome() == Outcome.SUCCESS) {
            st.uses.grantUsed(d.grantUse(), at);
        }
        head = new ChainHead(seq, hash);
        return at;
    }

    /**
     * An append's statements, prepared once per connection use rather than once per event, and the
     * grant and token uses its events record (access's tables, written through {@link EventUses} on
     * this connection, so they commit with the events).
     */
    private static final class Statements implements AutoCloseable {
        private final Connection c;
        private PreparedStatement insert;
        private Statement plain;
        final EventUses uses;

        Statements(Connection c, EventUses.Factory uses) {
            this.c = c;
            this.uses = uses.on(c);
        }

        PreparedStatement insert() throws SQLException {
            if (insert == null) {
                insert = c.prepareStatement(INSERT);
            }
            return insert;
        }

        /** Notes that the token authenticated a request whose event has time {@code at}. */
        void tokenUsed(String tokenId, long at) {
            uses.tokenUsed(tokenId, at);
        }

        void writeTokenUses() throws SQLException {
            uses.writeTokenUses();
        }

        void execute(String sql) throws SQLException {
            if (plain == null) {
                plain = c.createStatement();
            }
            plain.execute(sql);
        }

        @Override
        public void close() throws SQLException {
            uses.close();
            for (Statement s : new Statement[] {insert, plain}) {
                if (s != null) {
                    s.close();
                }
            }
        }
    }

    // Savepoints are issued as SQL: the pool refuses JDBC rollback(Savepoint) on a connection that
    // takes part in a JTA transaction, but SQLite's SAVEPOINT / ROLLBACK TO are plain statements.
    private String savepoint(Session session) {
        session.flush();
        String name = "unit_" + (++savepoints);
        session.doWork(c -> {
            try (Statement st = c.createStatement()) {
                st.execute("SAVEPOINT " + name);
            }
        });
        return name;
    }

    private static void rollbackTo(Session session, String savepoint) {
        session.clear(); // entities of the failed unit must not be flushed later
        session.doWork(c -> {
            try (Statement st = c.createStatement()) {
                st.execute("ROLLBACK TO SAVEPOINT " + savepoint);
            }
        });
    }

    static ChainHead readHead(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select seq, hash from audit_event order by seq desc limit 1");
             ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                return new ChainHead(rs.getLong(1), rs.getString(2));
            }
        }
        // Every event archived: the chain goes on from the anchor.
        return AuditArchiver.latestAnchor(c).map(a -> new ChainHead(a.seq(), a.hash())).orElse(ChainHead.EMPTY);
    }

    private static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        // SQLite's messages name the error class (SQLITE_FULL, SQLITE_IOERR), never bound values; PostgreSQL's
        // leave out the server's detail, which would quote key values (StoreDriver: logServerErrorDetail).
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private static final int QUEUED = 0;
    private static final int STARTED = 1;
    private static final int WITHDRAWN = 2;

    /** A submitted unit and the answer its caller waits for. */
    private static final class Pending<R> {
        final Unit<R> unit;
        /** The event's details as canonical JSON, if the caller made them already; else the writer does. */
        final String details;
        final CompletableFuture<R> result = new CompletableFuture<>();
        /** QUEUED, then STARTED by the writer or WITHDRAWN by a caller that gave up: whichever comes first. */
        private final AtomicInteger state = new AtomicInteger(QUEUED);
        private R value;
        private RuntimeException error;

        Pending(Unit<R> unit, String details) {
            this.unit = unit;
            this.details = details;
        }

        /** The writer takes the unit; false if its caller withdrew it first. */
        boolean start() {
            return state.compareAndSet(QUEUED, STARTED);
        }

        /** The caller gives up; false if the writer already started the unit. */
        boolean withdraw() {
            return state.compareAndSet(QUEUED, WITHDRAWN);
        }

        boolean withdrawn() {
            return state.get() == WITHDRAWN;
        }

        void outcome(R v, RuntimeException e) {
            value = v;
            error = e;
        }

        /** Called only after the commit that holds this unit. */
        void complete() {
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(value);
            }
        }
    }
}
