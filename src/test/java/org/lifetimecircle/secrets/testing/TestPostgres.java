package org.lifetimecircle.secrets.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server from Debian's {@code postgresql} package, for the PostgreSQL store's tests: one
 * cluster per test JVM in a temporary directory on a free port (started on first use, stopped when the JVM
 * exits), and a fresh empty database for each application a test starts. Root cannot run the server, so as
 * root it runs as the {@code postgres} user (runuser), as CI does.
 *
 * <p>{@code -Dltc.test.store=postgresql} (or {@code LTC_TEST_STORE=postgresql}) runs the whole suite on it
 * ({@link #selected()}); tests of PostgreSQL-only behaviour use it directly.
 */
public final class TestPostgres {

    /** The role the tests connect as (trust authentication on 127.0.0.1 only). */
    public static final String USER = "ltc";
    /** A role that must give its password ({@link #passwordRole}). */
    public static final String PASSWORD_USER = "ltc_password";

    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static volatile TestPostgres cluster;

    private final Path dir;
    private final Path bin;
    private final int port;

    private TestPostgres(Path dir, Path bin, int port) {
        this.dir = dir;
        this.bin = bin;
        this.port = port;
    }

    /** Whether this test run puts the service's store in PostgreSQL. */
    public static boolean selected() {
        String p = System.getProperty("ltc.test.store", System.getenv().getOrDefault("LTC_TEST_STORE", "sqlite"));
        return "postgresql".equalsIgnoreCase(p.trim());
    }

    /** The cluster of this JVM, started on first use. */
    public static synchronized TestPostgres cluster() {
        if (cluster == null) {
            cluster = start();
            TestPostgres c = cluster;
            Runtime.getRuntime().addShutdownHook(new Thread(c::stop, "test-postgres-stop"));
        }
        return cluster;
    }

    public int port() {
        return port;
    }

    /** A new empty database; returns its JDBC URL. */
    public String createDatabase() {
        String name = "ltc_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        try (Connection c = connect(url("postgres"));
             Statement st = c.createStatement()) {
            st.execute("create database " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name, e);
        }
        return url(name);
    }

    /**
     * A connection to a database of this cluster. Not DriverManager: in a Quarkus test the driver is loaded by
     * the application's class loader, which DriverManager does not search.
     */
    public static Connection connect(String url) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", USER);
        return new org.postgresql.Driver().connect(url, p);
    }

    /** Creates (or resets) {@link #PASSWORD_USER} with {@code password}, owner of a new database; returns its URL. */
    public String passwordRole(String password) {
        String url = createDatabase();
        String database = url.substring(url.lastIndexOf('/') + 1);
        try (Connection c = connect(url("postgres")); Statement st = c.createStatement()) {
            st.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + PASSWORD_USER
                    + "') THEN CREATE ROLE " + PASSWORD_USER + " LOGIN; END IF; END $$");
            st.execute("ALTER ROLE " + PASSWORD_USER + " PASSWORD '" + password.replace("'", "''") + "'");
            st.execute("ALTER DATABASE " + database + " OWNER TO " + PASSWORD_USER);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the password role", e);
        }
        return url;
    }

    /** The settings that put a test application's store in a new database of this cluster. */
    public Map<String, String> storeProperties() {
        return Map.of("ltc-secrets.store", "postgresql",
                "ltc-secrets.store.url", createDatabase(),
                "ltc-secrets.store.username", USER);
    }

    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    private static TestPostgres start() {
        try {
            Path bin = binaries();
            Path dir = Files.createTempDirectory("ltc-secrets-pg-");
            boolean root = "root".equals(System.getProperty("user.name"));
            Path data = dir.resolve("data");
            if (root) {
                run(List.of("chown", "postgres", dir.toString()), false);
                run(List.of("chmod", "0700", dir.toString()), false);
            }
            run(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-A", "trust", "-U", USER,
                    "-E", "UTF8", "--no-sync"), root);
            // One role must prove a password (scram), for the tests of ltc-secrets.store.password-file; the rest trust.
            Path hba = data.resolve("pg_hba.conf");
            String rules = "host all " + PASSWORD_USER + " 127.0.0.1/32 scram-sha-256\n" + Files.readString(hba);
            Files.writeString(hba, rules);
            int port = freePort();
            // fsync stays on: the crash tests kill the service, not the server, and durability is the point.
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l",
                    dir.resolve("server.log").toString(), "-o", "-p " + port + " -k " + dir
                            + " -c listen_addresses=127.0.0.1 -c max_connections=300", "start"), root);
            return new TestPostgres(dir, bin, port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void stop() {
        boolean root = "root".equals(System.getProperty("user.name"));
        try {
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate",
                    "stop"), root);
        } catch (RuntimeException | IOException e) {
            // The JVM is exiting; a server left running is found by its directory.
        }
    }

    /** Debian's server binaries ({@code postgresql} package), newest major version; LTC_TEST_PG_BIN overrides. */
    static Path binaries() throws IOException {
        String override = System.getenv("LTC_TEST_PG_BIN");
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        Path lib = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> versions = Files.list(lib)) {
                List<Path> bins = new ArrayList<>(versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("pg_ctl"))).toList());
                bins.sort(Comparator.comparing(b -> Integer.parseInt(b.getParent().getFileName().toString()
                        .replaceAll("\\D", "0"))));
                if (!bins.isEmpty()) {
                    return bins.get(bins.size() - 1);
                }
            }
        }
        throw new IllegalStateException("PostgreSQL's server is not installed (Debian: apt-get install postgresql;"
                + " .ci/deps installs it)");
    }

    private static void run(List<String> command, boolean asPostgres) throws IOException {
        List<String> full = new ArrayList<>();
        if (asPostgres) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", full) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
