package org.lifetimecircle.secrets.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The packaged jar ({@code target/quarkus-app/quarkus-run.jar}) run as a real process, the way the
 * systemd unit runs it: black-box tests start it, wait for it with a deadline, and kill it.
 */
public final class ServiceProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** How long a black-box test waits for the jar to answer /health: generous, a 2-core CI machine is busy. */
    public static final Duration START_DEADLINE = Duration.ofSeconds(60);

    /** Quarkus's start line; the port is read from it because the service binds port 0 itself. */
    private static final Pattern LISTENING = Pattern.compile("Listening on: http://127\\.0\\.0\\.1:(\\d+)");

    private final Process process;
    private final Path log;
    private final long logOffset;
    private final long startedNanos;
    private volatile int port;

    private ServiceProcess(Process process, Path log, long logOffset, long startedNanos) {
        this.process = process;
        this.log = log;
        this.logOffset = logOffset;
        this.startedNanos = startedNanos;
    }

    /** Builder of the command line: profile, {@code -D} properties, environment. */
    public static final class Builder {
        private final Map<String, String> properties = new LinkedHashMap<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private final List<String> jvmFlags = new ArrayList<>();
        private String profile = "prod";
        private Path log;
        private Path workingDir;
        private String umask;
        private boolean sqliteOnly;

        public Builder profile(String p) {
            profile = p;
            return this;
        }

        public Builder property(String key, String value) {
            properties.put(key, value);
            return this;
        }

        public Builder env(String key, String value) {
            env.put(key, value);
            return this;
        }

        public Builder jvmFlag(String flag) {
            jvmFlags.add(flag);
            return this;
        }

        /** Runs the service in this directory, so relative defaults ({@code ./data}, {@code ./policies}) land there. */
        public Builder workingDir(Path dir) {
            workingDir = dir;
            return this;
        }

        /** Starts the JVM under this umask (e.g. {@code 022}, a common login default) instead of the test's own. */
        public Builder umask(String mask) {
            umask = mask;
            return this;
        }

        /** Keeps this start on the SQLite store even when the suite runs on PostgreSQL (a test of SQLite's files). */
        public Builder sqliteOnly() {
            sqliteOnly = true;
            return this;
        }

        public Builder log(Path file) {
            log = file;
            return this;
        }

        /** Starts the jar and waits until it is healthy; a start that never gets there is stopped, not leaked. */
        public ServiceProcess startHealthy(Duration deadline) {
            ServiceProcess service = start();
            try {
                service.awaitHealthy(deadline);
            } catch (AssertionError e) {
                service.close();
                throw e;
            }
            return service;
        }

        /**
         * When the suite runs on PostgreSQL ({@link TestPostgres#selected()}) and the test chose no store itself, the
         * store settings for this start: one fresh database per data directory, the same one again when the test
         * restarts the jar on that directory (a restart finds its data, as on SQLite).
         */
        private Map<String, String> storeOnPostgresql() {
            if (!TestPostgres.selected() || sqliteOnly || properties.containsKey("ltc-secrets.store")) {
                return Map.of();
            }
            Path base = workingDir != null ? workingDir : Path.of("");
            Path dataDir = base.resolve(properties.getOrDefault("ltc-secrets.data-dir", "data")).toAbsolutePath()
                    .normalize();
            String url = DATABASES.computeIfAbsent(dataDir, d -> TestPostgres.cluster().createDatabase());
            return Map.of("ltc-secrets.store", "postgresql", "ltc-secrets.store.url", url,
                    "ltc-secrets.store.username", TestPostgres.USER);
        }

        public ServiceProcess start() {
            try {
                Path jar = Path.of(System.getProperty("quarkus.app.dir", "target/quarkus-app"), "quarkus-run.jar")
                        .toAbsolutePath();
                if (!Files.exists(jar)) {
                    throw new IllegalStateException(jar + " is missing: run ./mvnw verify (the jar is built before ITs)");
                }
                List<String> cmd = new ArrayList<>();
                if (umask != null) {
                    // exec: the shell becomes the JVM, so pid() and kill() still reach the service itself.
                    cmd.addAll(List.of("/bin/sh", "-c", "umask " + umask + " && exec \"$@\"", "sh"));
                }
                cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                cmd.addAll(jvmFlags);
                cmd.add("-Dquarkus.profile=" + profile);
                // Port 0: the service binds a free port itself. Picking one here and passing it on
                // raced with other processes on a shared machine ("port in use" at start).
                cmd.add("-Dquarkus.http.port=0");
                properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
                storeOnPostgresql().forEach((k, v) -> cmd.add("-D" + k + "=" + v));
                cmd.add("-jar");
                cmd.add(jar.toString());
                Path logFile = log != null ? log : Files.createTempFile("ltc-secrets-it-", ".log");
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
                pb.environment().putAll(env);
                if (workingDir != null) {
                    pb.directory(workingDir.toFile());
                }
                long offset = Files.exists(logFile) ? Files.size(logFile) : 0;
                long t0 = System.nanoTime();
                return new ServiceProcess(pb.start(), logFile, offset, t0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The PostgreSQL database of each data directory a black-box test started the jar on (suite on PostgreSQL). */
    private static final Map<Path, String> DATABASES = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A direct connection to the store of the jar started on {@code dataDir}: its PostgreSQL database when the suite
     * runs on PostgreSQL, else the SQLite file in it. How black-box tests play someone with database access.
     */
    public static java.sql.Connection database(Path dataDir) throws java.sql.SQLException {
        String url = DATABASES.get(dataDir.toAbsolutePath().normalize());
        if (url != null) {
            return TestPostgres.connect(url);
        }
        return java.sql.DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("ltc-secrets.db")
                + "?busy_timeout=10000");
    }

    /** Whether the jar started on {@code dataDir} keeps its store in PostgreSQL. */
    public static boolean onPostgresql(Path dataDir) {
        return DATABASES.containsKey(dataDir.toAbsolutePath().normalize());
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The restart tests' usual service: dev profile (no credentials needed), a small heap, C1 only
     * (they start the jar many times; peak speed does not matter), SerialGC as in the unit, and its
     * three paths; run in {@code workDir}.
     */
    public static Builder dev(Path workDir, Path dataDir, Path policiesDir, Path fileRoot) {
        return builder()
                .profile("dev")
                .workingDir(workDir)
                .jvmFlag("-Xmx128m")
                .jvmFlag("-XX:TieredStopAtLevel=1")
                .jvmFlag("-XX:+UseSerialGC")
                .property("ltc-secrets.data-dir", dataDir.toString())
                .property("ltc-secrets.policies-dir", policiesDir.toString())
                .property("ltc-secrets.file-root", fileRoot.toString());
    }

    /**
     * A policies directory under {@code workDir} holding copies of the named test policies
     * ({@code src/test/resources/test-policies/environments/<env>.yaml}); returns it.
     */
    public static Path testPolicies(Path workDir, String... environments) throws IOException {
        Path policies = workDir.resolve("policies");
        Files.createDirectories(policies.resolve("environments"));
        for (String env : environments) {
            Files.copy(Path.of("src/test/resources/test-policies/environments/" + env + ".yaml"),
                    policies.resolve("environments/" + env + ".yaml"));
        }
        return policies;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** The port this process listens on, from its start line; fails if it has not started listening. */
    public int port() {
        int p = listeningPort();
        if (p == 0) {
            throw new IllegalStateException("the service has not started listening yet");
        }
        return p;
    }

    private int listeningPort() {
        if (port == 0) {
            // Only this start's part of the log: a log file may be appended to by several starts.
            String out = output();
            Matcher m = LISTENING.matcher(out.substring((int) Math.min(logOffset, out.length())));
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
            }
        }
        return port;
    }

    public long pid() {
        return process.pid();
    }

    /** Polls {@code /health} until it answers 200; returns the time from launch, or fails at the deadline. */
    public Duration awaitHealthy(Duration deadline) {
        try {
            Poll.atMost(deadline).until(() -> {
                if (!process.isAlive()) {
                    throw new AssertionError("service exited with " + process.exitValue() + " before becoming healthy:\n"
                            + output());
                }
                return get("/health").map(r -> r.statusCode() == 200).orElse(false);
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("service not healthy within " + deadline + ":\n" + output(), e);
        }
        return Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    /** Waits for the process to exit by itself; returns its exit code, or fails at the deadline. */
    public int awaitExit(Duration deadline) {
        try {
            if (!process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("service still running after " + deadline + ":\n" + output());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * An unauthenticated GET (/health, /q/metrics, a 401 probe); empty if the service does not answer.
     * A call as a token is {@link Api#as(ServiceProcess, String)}.
     */
    public Optional<HttpResponse<String>> get(String path) {
        if (listeningPort() == 0) {
            return Optional.empty();
        }
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(5))
                    .build();
            return Optional.of(HTTP.send(req, HttpResponse.BodyHandlers.ofString()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Resident set size in KiB, read from /proc. */
    public long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for " + process.pid());
    }

    /** Everything the process printed so far. */
    public String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    /** SIGKILL, as a crash would. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM and wait, as systemd stops it. */
    public int stop() {
        process.destroy();
        return awaitExit(Duration.ofSeconds(30));
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
