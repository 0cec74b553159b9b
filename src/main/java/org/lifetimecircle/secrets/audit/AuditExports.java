package org.lifetimecircle.secrets.audit;

import io.quarkus.credentials.CredentialsProvider;
import io.vertx.core.http.HttpConnection;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.db.Store;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.ProblemCode;

/**
 * Bounds what audit exports and verifications can take from everyone else. An export holds a read
 * snapshot for as long as its client reads, so it must not hold one of the pool's few connections
 * (authentication, the writer and {@code /health} need them): each export and verification reads on
 * a connection of its own, opened here outside the pool, read-only. At most {@link #MAX_AT_ONCE}
 * run at a time (others get 429 with Retry-After), and an export whose client stops reading is cut
 * off after {@code ltc-secrets.audit.export-write-timeout}: its HTTP connection is closed, the
 * blocked write fails and the snapshot is released.
 */
@ApplicationScoped
public class AuditExports {

    private static final Logger LOG = Logger.getLogger(AuditExports.class);
    static final int MAX_AT_ONCE = 2;

    private static final int OPEN = 0;
    private static final int STREAMING = 1;
    private static final int CLOSED = 2;

    private final Semaphore slots = new Semaphore(MAX_AT_ONCE);
    private final Set<Slot> active = ConcurrentHashMap.newKeySet();
    private final String url;
    private final Store store;
    private final CredentialsProvider credentials;
    private final long timeoutNanos;
    private volatile ScheduledExecutorService watchdog;

    AuditExports(@ConfigProperty(name = "quarkus.datasource.jdbc.url") String url, LtcSecretsConfig config,
                 Store store, @Named("ltc-secrets-store") CredentialsProvider credentials) {
        this.url = url;
        this.store = store;
        this.credentials = credentials;
        this.timeoutNanos = config.audit().exportWriteTimeout().toNanos();
    }

    /**
     * Takes one of the slots with its own read-only connection, or refuses with 429. {@code http} is
     * the request's connection (closed if the client stops reading); null for a verification.
     */
    public Slot acquire(String what, HttpConnection http) {
        if (!slots.tryAcquire()) {
            throw new ApiException(ProblemCode.TOO_MANY_REQUESTS, "at most " + MAX_AT_ONCE
                    + " audit exports or verifications run at a time; retry later");
        }
        try {
            Properties login = new Properties();
            login.putAll(credentials.getCredentials("ltc-secrets-store"));
            Slot slot = new Slot(store.openReadOnly(url, login), what, http);
            active.add(slot);
            return slot;
        } catch (SQLException | RuntimeException e) {
            slots.release();
            throw new IllegalStateException("cannot open a connection for the audit " + what, e);
        }
    }

    /** How many slots are free (metrics, tests). */
    public int available() {
        return slots.availablePermits();
    }

    private void startWatchdog() {
        if (watchdog != null) {
            return;
        }
        synchronized (this) {
            if (watchdog == null) {
                ScheduledExecutorService w = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "audit-export-watchdog");
                    t.setDaemon(true);
                    return t;
                });
                long every = Math.max(TimeUnit.NANOSECONDS.toMillis(timeoutNanos) / 4, 100);
                w.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
                watchdog = w;
            }
        }
    }

    private void check() {
        long now = System.nanoTime();
        for (Slot s : active) {
            try {
                s.check(now);
            } catch (RuntimeException e) {
                LOG.errorf("audit %s watchdog: %s", s.what, e.getClass().getSimpleName());
            }
        }
    }

    /** One running export or verification: its connection, and whether its client keeps reading. */
    public final class Slot implements AutoCloseable {
        private final Connection connection;
        private final String what;
        private final HttpConnection http;
        private final AtomicInteger state = new AtomicInteger(OPEN);
        /** When the export was handed to the HTTP layer (0: not yet); it must start streaming in time. */
        private volatile long handedOverAt;
        /** When the write now in progress started (0: none in progress). */
        private volatile long writingSince;
        private volatile boolean cutOff;

        private Slot(Connection connection, String what, HttpConnection http) {
            this.connection = connection;
            this.what = what;
            this.http = http;
        }

        public Connection connection() {
            return connection;
        }

        /**
         * The response is about to be sent: from now on the watchdog releases the slot if streaming
         * never starts (a client that went away before the first byte) or a write blocks too long.
         */
        public void handOver() {
            handedOverAt = System.nanoTime();
            startWatchdog();
        }

        /** Called by the streaming body before it touches the connection; false if the slot expired. */
        public boolean startStreaming() {
            return state.compareAndSet(OPEN, STREAMING);
        }

        /** {@code out} with each write timed, so one that blocks (a client not reading) can be cut off. */
        public OutputStream watch(OutputStream out) {
            return new FilterOutputStream(out) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    writingSince = System.nanoTime();
                    try {
                        out.write(b, off, len);
                    } finally {
                        writingSince = 0;
                    }
                    if (cutOff) {
                        throw new IOException("audit " + what + " cut off: the client stopped reading");
                    }
                }

                @Override
                public void flush() throws IOException {
                    writingSince = System.nanoTime();
                    try {
                        out.flush();
                    } finally {
                        writingSince = 0;
                    }
                }
            };
        }

        private void check(long now) {
            int s = state.get();
            if (s == OPEN && handedOverAt != 0 && now - handedOverAt > timeoutNanos) {
                if (state.compareAndSet(OPEN, CLOSED)) {
                    LOG.warnf("audit %s released: its body was never streamed", what);
                    release();
                }
            } else if (s == STREAMING && !cutOff) {
                long since = writingSince;
                if (since != 0 && now - since > timeoutNanos) {
                    cutOff = true;
                    LOG.warnf("audit %s cut off: the client read nothing for %d s", what,
                            TimeUnit.NANOSECONDS.toSeconds(timeoutNanos));
                    if (http != null) {
                        cut(http); // the blocked write fails, and the export closes its snapshot
                    }
                }
            }
        }

        /**
         * Closes the connection at once. Vert.x's {@code close()} (and so the channel's, which passes
         * through Vert.x's handler) first waits for the pending writes to be flushed, which never
         * happens for a client that does not read. Closing from Vert.x's handler context towards the
         * socket is what Vert.x itself does for an idle timeout: the blocked write then sees the
         * response closed within a second.
         */
        private static void cut(HttpConnection http) {
            if (http instanceof io.vertx.core.net.impl.ConnectionBase base) {
                base.channelHandlerContext().close();
            } else {
                http.close();
            }
        }

        /** Ends the read transaction, closes the connection and frees the slot; idempotent. */
        @Override
        public void close() {
            if (state.getAndSet(CLOSED) != CLOSED) {
                release();
            }
        }

        private void release() {
            try {
                if (!connection.getAutoCommit()) {
                    connection.rollback();
                }
                connection.close();
            } catch (SQLException e) {
                LOG.errorf("audit %s: closing its connection failed (%s)", what, e.getClass().getSimpleName());
            } finally {
                active.remove(this);
                slots.release();
            }
        }
    }
}
