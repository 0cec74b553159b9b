package org.lifetimecircle.secrets.ha;

import io.quarkus.credentials.CredentialsProvider;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Named;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.Optional;
import java.util.Properties;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.db.Store;
import org.lifetimecircle.secrets.db.StoreDriver;

/**
 * Which instance is active. On SQLite: this one, always. On PostgreSQL several instances may share the
 * database; the active one holds a session-level advisory lock on one connection of its own, outside the pool
 * (so the pool's coming and going cannot drop it), and only the active runs the start's writing part, the audit
 * writer, rotations and the scheduler. The others are standbys: they poll for the lock about every second.
 *
 * <p>Taking over: the lock, then the epoch ({@link HaEpoch#takeOver}, before anything else, so commits of the old
 * active that were under way land before it and none after: {@link EpochFence}), then the start's active part
 * ({@link #lead}'s callback), then serving.
 *
 * <p>Losing it: the lock lives as long as the session. The session has {@code idle_session_timeout} set, and the
 * active pings it about every second with a short socket timeout: if the network to the database is cut, the
 * server ends the silent session after {@link #IDLE_SESSION_TIMEOUT_MS} (releasing the lock for a standby) and
 * this instance sees its ping fail first and fences itself: writes refused, one ERROR line, the process exits
 * ({@link Fencing}). A {@code kill -9} closes the session at once.
 */
@ApplicationScoped
public class Leadership {

    private static final Logger LOG = Logger.getLogger(Leadership.class);
    /** The advisory lock's key: "ltcsecrt" as a 64-bit number, the same for every instance of one database. */
    static final long LOCK_KEY = 0x6c74637365637274L;
    static final long POLL_MILLIS = 1_000;
    /** The server ends the lock session after this much silence: the ping every second keeps a live one open. */
    static final int IDLE_SESSION_TIMEOUT_MS = 6_000;
    /** A ping that gets no answer in this time means the database is out of reach (before the server notices). */
    private static final String SOCKET_TIMEOUT_SECONDS = "5";

    /** This instance's role as {@code /health} names it. */
    public enum Role {
        ACTIVE, STANDBY;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final LtcSecretsConfig config;
    private final Store store;
    private final CredentialsProvider credentials;
    private final String url;
    private final EpochFence fence;
    private final Clock clock;
    private volatile Role role = Role.STANDBY;
    private volatile boolean serving;
    private volatile String activeUrl;
    private volatile boolean closing;
    /** The standby's lock poll and the active's pings: stopped before the lock session closes. */
    /** Answered pings of the lock session since this instance took over. */
    private final java.util.concurrent.atomic.AtomicLong pings = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The lock session: lead()'s, then the standby's poll thread's, then (once taken) only the ping thread's. */
    private Connection session;

    Leadership(LtcSecretsConfig config, Store store, @Named("ltc-secrets-store") CredentialsProvider credentials,
               @ConfigProperty(name = "quarkus.datasource.jdbc.url") String url, EpochFence fence, Clock clock) {
        this.config = config;
        this.store = store;
        this.credentials = credentials;
        this.url = url;
        this.fence = fence;
        this.clock = clock;
    }

    /**
     * Becomes active and then runs {@code activate} (the start's writing part): on SQLite at once; on PostgreSQL
     * at once if the lock is free, which keeps a lone instance's start as it was (its first request finds it
     * started), else on the leadership thread whenever the lock comes free, while Quarkus finishes starting and
     * this instance serves {@code /health} and 503s as a standby. An exception from {@code activate} run here
     * stops the start; run later, it ends the process (a start refused as the active instance).
     */
    public void lead(Runnable activate) {
        if (!shared()) {
            role = Role.ACTIVE;
            activeUrl = self();
            activate.run();
            serving = true;
            return;
        }
        boolean took;
        try {
            took = tryTakeOver();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the database session that decides the active instance ("
                    + e.getSQLState() + ")", e);
        }
        if (took) {
            // The pings start with the lock, not after the start's active part: that part can take longer than
            // the session's idle timeout on a busy machine, and a silent session is ended by the server.
            startThread("ha-lock-ping", this::watchWhileActive);
            activate.run();
            serving = true;
        } else {
            LOG.infof("standby: %s is active; this instance takes over when it stops",
                    Optional.ofNullable(activeUrl).orElse("another instance"));
            startThread("ha-leadership", () -> {
                if (awaitLock()) {
                    startThread("ha-lock-ping", this::watchWhileActive);
                    activateLater(activate);
                }
            });
        }
    }

    /** How many pings of the lock session were answered since this instance took over (tests). */
    long pings() {
        return pings.get();
    }

    /** {@code active} or {@code standby}. */
    public Role role() {
        return role;
    }

    /** Active and done with the start's active part: requests and jobs may run. */
    public boolean serving() {
        return serving && !fence.fenced();
    }

    /** The active instance's advertise URL as far as this one knows; empty if none is known. */
    public Optional<String> activeUrl() {
        return Optional.ofNullable(activeUrl);
    }

    /** The epoch this instance took over with (PostgreSQL); 0 on SQLite or before it took over. */
    public long epoch() {
        return fence.epoch();
    }

    /** This instance's {@code ltc-secrets.ha.advertise-url}, or {@code http://<quarkus.http.host>:<port>}. */
    public String self() {
        return config.ha().advertiseUrl().map(Object::toString).orElseGet(() -> {
            var c = ConfigProvider.getConfig();
            return "http://" + c.getOptionalValue("quarkus.http.host", String.class).orElse("127.0.0.1") + ":"
                    + c.getOptionalValue("quarkus.http.port", Integer.class).orElse(8300);
        });
    }

    private boolean shared() {
        return store.kind() == Store.Kind.POSTGRESQL;
    }

    private void startThread(String name, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (RuntimeException | Error e) {
                if (!closing) {
                    LOG.errorf("leadership: unexpected failure (%s)", e.getClass().getSimpleName());
                    Fencing.halt("the leadership thread failed");
                }
            }
        }, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    /** Standby: polls for the lock about every second, reconnecting as needed; true once taken. */
    private boolean awaitLock() {
        boolean reported = false;
        while (!closing) {
            try {
                if (tryTakeOver()) {
                    return true;
                }
                if (reported) {
                    LOG.infof("standby: the database answers again");
                    reported = false;
                }
            } catch (SQLException e) {
                closeSession();
                if (!reported) {
                    // A standby without its session changes nothing; it says so once and keeps trying.
                    LOG.warnf("standby: cannot reach the database (%s); retrying every second", e.getSQLState());
                    reported = true;
                }
            }
            if (!pause()) {
                return false;
            }
        }
        return false;
    }

    /** One attempt: the lock, then the epoch. Standby: learns the active's URL. */
    private boolean tryTakeOver() throws SQLException {
        if (session == null) {
            session = open();
        }
        boolean locked;
        try (PreparedStatement ps = session.prepareStatement("select pg_try_advisory_lock(?)")) {
            ps.setLong(1, LOCK_KEY);
            try (ResultSet rs = ps.executeQuery()) {
                locked = rs.next() && rs.getBoolean(1);
            }
        }
        if (!locked) {
            activeUrl = HaEpoch.holder(session).orElse(null);
            return false;
        }
        long epoch;
        try {
            epoch = HaEpoch.takeOver(session, self(), instance(), clock.millis());
        } catch (SQLException e) {
            closeSession(); // releases the lock: holding it without an epoch would block every take-over
            throw e;
        }
        fence.activate(epoch);
        activeUrl = self();
        role = Role.ACTIVE;
        LOG.infof("active: this instance (%s) holds the lock, epoch %d", self(), epoch);
        return true;
    }

    private void activateLater(Runnable activate) {
        try {
            activate.run();
            serving = true;
        } catch (RuntimeException e) {
            LOG.errorf("ltc-secrets refused to start as the active instance: %s", e.getMessage());
            fence.fence("the start as the active instance failed");
        }
    }

    /** Active: pings the lock session about every second; a failed ping fences this instance. */
    private void watchWhileActive() {
        while (!closing && pause()) {
            try (Statement st = session.createStatement(); ResultSet rs = st.executeQuery("select 1")) {
                rs.next();
                pings.incrementAndGet();
            } catch (SQLException e) {
                if (!closing) {
                    fence.fence("lost the database session that holds the active instance's lock ("
                            + e.getSQLState() + ")");
                }
                return;
            }
        }
    }

    private boolean pause() {
        try {
            Thread.sleep(POLL_MILLIS); // the poll interval itself, not a wait for something to happen
            return !closing;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The lock session: outside the pool, a short socket timeout, ended by the server when it goes silent. */
    private Connection open() throws SQLException {
        Properties p = new Properties();
        p.putAll(credentials.getCredentials("ltc-secrets-store"));
        p.setProperty("socketTimeout", SOCKET_TIMEOUT_SECONDS);
        p.setProperty("connectTimeout", SOCKET_TIMEOUT_SECONDS);
        p.setProperty("ApplicationName", "ltc-secrets-leadership");
        Connection c = new StoreDriver().connect(url, p);
        try (Statement st = c.createStatement()) {
            st.execute("set idle_session_timeout = " + IDLE_SESSION_TIMEOUT_MS);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void closeSession() {
        Connection c = session;
        session = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // Closing is all that was wanted; the server ends the session either way.
            }
        }
    }

    private static String instance() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown-host";
        }
        return host + "/" + ProcessHandle.current().pid();
    }

    /**
     * After the writer's last checkpoint (priority 10): releases the lock, so a standby takes over at once
     * instead of after the session times out.
     */
    void onShutdown(@Observes @Priority(100) ShutdownEvent event) {
        closing = true;
        for (Thread t : threads) {
            if (t == Thread.currentThread()) {
                continue;
            }
            t.interrupt();
            try {
                t.join(POLL_MILLIS * 5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeSession();
    }
}
