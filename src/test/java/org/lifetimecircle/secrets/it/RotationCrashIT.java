package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;
import static org.lifetimecircle.secrets.testing.Api.grant;
import static org.lifetimecircle.secrets.testing.Rotations.awaitFinished;

import com.sun.net.httpserver.HttpServer;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * Black-box crash tests of one rotation of an environment with an {@code app} section: the packaged
 * jar is killed with SIGKILL at a chosen step of the rotation's journal (the restart, the health
 * check, right after the 202, or with a second secret's rotation accepted but still waiting on the
 * environment's lock, before its file write) and started again on the same data. Whatever the step, the rotation
 * must end finished, one CURRENT version of each secret must remain, and the env file on disk must be
 * the one the CURRENT versions render. The app is a shell script (its restarts are counted in a file, its
 * duration read from another) and its health endpoint is served from this JVM.
 */
class RotationCrashIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(60);
    private static final Duration MARKER_DEADLINE = Duration.ofSeconds(15);
    private static final String ENV = "crash";
    private static final String OTHER = "OTHER_KEY";
    private static final Pattern SECRET_LINE = Pattern.compile("(?m)^LTC_SECRET_KEY=([A-Za-z0-9_-]{64})$");
    private static final Pattern OTHER_LINE = Pattern.compile("(?m)^OTHER_KEY=(\\S+)$");

    /** Where in the rotation's journal the service is killed. */
    enum Point {
        /** The restart command is running (sleeping 30 s): after the file write, before the health check. */
        DURING_RESTART,
        /** The app was restarted and answers 503: after the restart, before promotion. */
        DURING_HEALTH_CHECK,
        /** Right after the POST returned 202: most likely before the file write. */
        AFTER_ACCEPT,
        /**
         * A rotation of OTHER_KEY accepted (PENDING) while one of LTC_SECRET_KEY holds the environment's
         * lock in its 30 s restart: the OTHER_KEY job waits on that lock, i.e. before its file write.
         */
        BEFORE_FILE_WRITE
    }

    @TempDir
    Path tmp;
    Path data;
    Path policies;
    Path fileRoot;
    Path envFile;
    Path restarts;
    Path sleepFile;
    HttpServer health;
    final AtomicInteger healthStatus = new AtomicInteger(200);
    final AtomicInteger unhealthyAnswers = new AtomicInteger();
    int starts;

    @BeforeEach
    void layout() throws IOException {
        data = tmp.resolve("data");
        fileRoot = data.resolve("root");
        envFile = fileRoot.resolve("etc/lifetimecircle/crash.env");
        policies = tmp.resolve("policies");
        restarts = tmp.resolve("restarts");
        sleepFile = tmp.resolve("sleep");
        Files.createDirectories(policies.resolve("environments"));
        try (Stream<Path> files = Files.list(Path.of("src/test/resources/test-policies/environments"))) {
            for (Path f : files.toList()) {
                // The production-like two; the others belong to in-JVM tests (apptest has placeholders
                // TestDataDir fills in, the scheduler's have minute-scale rotations).
                if (java.util.Set.of("prod.yaml", "staging.yaml").contains(f.getFileName().toString())) {
                    Files.copy(f, policies.resolve("environments").resolve(f.getFileName()));
                }
            }
        }

        health = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        health.createContext("/health", exchange -> {
            int status = healthStatus.get();
            if (status != 200) {
                unhealthyAnswers.incrementAndGet();
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        health.start();

        // Each run appends its pid (the exec'd sleep keeps it), so leftovers can be ended by id.
        Path script = tmp.resolve("restart.sh");
        Files.writeString(script, "#!/bin/sh\n"
                + "echo $$ >> '" + restarts + "'\n"
                + "exec sleep \"$(cat '" + sleepFile + "')\"\n", StandardCharsets.US_ASCII);
        Files.writeString(sleepFile, "0\n");

        // The file name must equal the environment.
        Files.writeString(policies.resolve("environments/" + ENV + ".yaml"), ""
                + "environment: " + ENV + "\n"
                + "envFile:\n"
                + "  path: /etc/lifetimecircle/" + ENV + ".env\n"
                + "  mode: \"0600\"\n"
                + "variables:\n"
                + "  LTC_ENV: " + ENV + "\n"
                + "secrets:\n"
                + "  LTC_SECRET_KEY:\n"
                + "    rotateEvery: P90D\n"
                + "  " + OTHER + ":\n"
                + "    rotateEvery: P90D\n"
                + "app:\n"
                + "  restartCommand: [\"/bin/sh\", \"" + script + "\"]\n"
                + "  healthUrl: http://127.0.0.1:" + health.getAddress().getPort() + "/health\n"
                + "  restartTimeout: PT10S\n"
                + "  healthTimeout: PT10S\n", StandardCharsets.UTF_8);
    }

    @AfterEach
    void stopHealth() throws IOException {
        if (health != null) {
            health.stop(0);
        }
        endLeftoverRestarts();
    }

    @ParameterizedTest
    @EnumSource(Point.class)
    void aKill9AtAnyStepLeavesOneCurrentVersionAndItsFile(Point point) throws Exception {
        long t0 = System.nanoTime();
        String id;
        String otherId = null;
        String before;
        String otherBefore;
        String statusAtKill;
        int restartsAtKill;
        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            grant(service, token, ENV, "secret:rotate");
            grant(service, token, ENV, "env-file:read");
            before = secretOf(Files.readString(envFile, StandardCharsets.UTF_8));
            otherBefore = otherOf(Files.readString(envFile, StandardCharsets.UTF_8));
            assertThat(restartCount()).as("the first start does not restart the app").isZero();

            switch (point) {
                case DURING_RESTART, BEFORE_FILE_WRITE -> {
                    Files.writeString(sleepFile, "30\n");
                    healthStatus.set(200);
                }
                case DURING_HEALTH_CHECK -> {
                    Files.writeString(sleepFile, "0\n");
                    healthStatus.set(503);
                }
                case AFTER_ACCEPT -> {
                    Files.writeString(sleepFile, "0\n");
                    healthStatus.set(200);
                }
            }
            Response accepted = as(service, token).contentType(ContentType.JSON)
                    .body(Map.of("reason", "crash test " + point))
                    .post("/api/v1/environments/" + ENV + "/secrets/LTC_SECRET_KEY/rotations");
            assertThat(accepted.statusCode()).as(accepted.asString()).isEqualTo(202);
            id = accepted.jsonPath().getString("id");

            if (point == Point.AFTER_ACCEPT) {
                service.kill();
                // How far the job got before the kill, as the disk and the app's restarts tell it.
                boolean written = !secretOf(Files.readString(envFile, StandardCharsets.UTF_8)).equals(before);
                statusAtKill = "(not read; file " + (written ? "written" : "not written") + ")";
            } else {
                awaitRestartCount(1);
                if (point == Point.DURING_HEALTH_CHECK) {
                    // The health check has seen the 503 a few times (it polls every 200 ms): it is under way.
                    int seen = unhealthyAnswers.get();
                    Poll.atMost(MARKER_DEADLINE).until(() -> unhealthyAnswers.get() >= seen + 3);
                }
                String otherAtKill = null;
                if (point == Point.BEFORE_FILE_WRITE) {
                    Response other = as(service, token).contentType(ContentType.JSON)
                            .body(Map.of("reason", "crash test " + point + " (waits on the lock)"))
                            .post("/api/v1/environments/" + ENV + "/secrets/" + OTHER + "/rotations");
                    assertThat(other.statusCode()).as(other.asString()).isEqualTo(202);
                    otherId = other.jsonPath().getString("id");
                    otherAtKill = as(service, token).get("/api/v1/rotations/" + otherId).jsonPath().getString("status");
                }
                statusAtKill = as(service, token).get("/api/v1/rotations/" + id).jsonPath().getString("status");
                service.kill();
                assertThat(statusAtKill).as("the rotation while the app is restarted or checked").isEqualTo("RUNNING");
                if (point == Point.BEFORE_FILE_WRITE) {
                    assertThat(otherAtKill).as("the " + OTHER + " rotation waiting on the lock").isEqualTo("PENDING");
                    assertThat(otherOf(Files.readString(envFile, StandardCharsets.UTF_8)))
                            .as("the " + OTHER + " value was not written before the kill").isEqualTo(otherBefore);
                    statusAtKill += ", " + OTHER + " " + otherAtKill;
                }
                if (point == Point.DURING_RESTART || point == Point.BEFORE_FILE_WRITE) {
                    assertThat(secretOf(Files.readString(envFile, StandardCharsets.UTF_8)))
                            .as("the new value was written before the restart").isNotEqualTo(before);
                }
            }
            restartsAtKill = restartCount();
        }
        endLeftoverRestarts();
        Files.writeString(sleepFile, "0\n");
        healthStatus.set(200);

        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            JsonPath done = awaitFinished(service, token, id);
            String status = done.getString("status");
            List<String> steps = done.getList("steps.name");
            assertThat(status).as(done.prettify()).isIn("COMPLETED", "ROLLED_BACK");
            if (point != Point.AFTER_ACCEPT) {
                assertThat(status).as(done.prettify()).isEqualTo("ROLLED_BACK");
                assertThat(steps).as("steps").contains("recover");
                assertThat(restartCount()).as("the app restarted again on the recovered file")
                        .isGreaterThan(restartsAtKill);
                // What recovery did is in the rotation's journal: the file put back, the app restarted on it
                // and checked, each step with how it went.
                // The interrupted job's own write too (each of these points comes after it).
                assertThat(steps).as(done.prettify()).containsSubsequence("start", "write-env-file", "recover",
                        "restore-env-file", "restart-after-recovery", "health-check-after-recovery");
                assertThat(stepField(done, "write-env-file", "detail")).as(done.prettify())
                        .startsWith("by the interrupted job");
                for (String step : List.of("recover", "restore-env-file", "restart-after-recovery",
                        "health-check-after-recovery")) {
                    assertThat(stepField(done, step, "status")).as(step + " in " + done.prettify()).isEqualTo("DONE");
                }
                assertThat(stepField(done, "restore-env-file", "detail")).as(done.prettify())
                        .contains("the CURRENT version's file is back");
                assertThat(stepField(done, "restart-after-recovery", "detail")).startsWith("exit 0");
                assertThat(stepField(done, "health-check-after-recovery", "detail")).startsWith("200 after");
            }

            List<Map<String, Object>> versions = as(service, token)
                    .get("/api/v1/environments/" + ENV + "/secrets/LTC_SECRET_KEY/versions").jsonPath().getList("");
            List<Map<String, Object>> current = versions.stream().filter(v -> "CURRENT".equals(v.get("state"))).toList();
            assertThat(current).as("CURRENT versions: " + versions).hasSize(1);
            assertThat(versions).as("versions").noneMatch(v -> "PENDING".equals(v.get("state")));
            long currentVersion = ((Number) current.get(0).get("version")).longValue();
            assertThat(currentVersion).isEqualTo(status.equals("COMPLETED") ? 2L : 1L);

            String otherStatus = null;
            List<String> otherSteps = null;
            if (otherId != null) {
                JsonPath otherDone = awaitFinished(service, token, otherId);
                otherStatus = otherDone.getString("status");
                otherSteps = otherDone.getList("steps.name");
                // PENDING rotations are resumed at start, and the app is healthy again: it completes.
                assertThat(otherStatus).as(otherDone.prettify()).isEqualTo("COMPLETED");
            }
            long otherVersion = currentVersionOf(service, token, OTHER);
            assertThat(otherVersion).as(OTHER + " CURRENT version").isEqualTo("COMPLETED".equals(otherStatus) ? 2L : 1L);

            byte[] disk = Files.readAllBytes(envFile);
            Response served = as(service, token).get("/api/v1/environments/" + ENV + "/env-file");
            assertThat(served.statusCode()).as(served.asString()).isEqualTo(200);
            assertThat(disk).as("the env file on disk equals the served one").isEqualTo(served.asByteArray());
            assertThat(served.header("X-Secret-Version"))
                    .isEqualTo("LTC_SECRET_KEY:" + currentVersion + "," + OTHER + ":" + otherVersion);
            String after = secretOf(new String(disk, StandardCharsets.UTF_8));
            String otherAfter = otherOf(new String(disk, StandardCharsets.UTF_8));
            if ("COMPLETED".equals(otherStatus)) {
                assertThat(otherAfter).as("the " + OTHER + " value on disk after completion is a new one")
                        .isNotEqualTo(otherBefore);
            } else {
                assertThat(otherAfter).as("the " + OTHER + " value on disk is unchanged").isEqualTo(otherBefore);
            }
            if (status.equals("ROLLED_BACK")) {
                assertThat(after).as("the value on disk after a roll-back is the one before").isEqualTo(before);
            } else {
                assertThat(after).as("the value on disk after completion is a new one").isNotEqualTo(before);
            }
            try (Stream<Path> beside = Files.list(envFile.getParent())) {
                assertThat(beside.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".crash.env.tmp-"));
            }
            assertThat(FileModes.stat(envFile)).isEqualTo("600");

            JsonPath verify = as(service, token).get("/api/v1/audit/verify").jsonPath();
            assertThat(verify.getBoolean("valid")).as(verify.prettify()).isTrue();

            System.out.printf("[crash-it] %s: at kill %s, after restart %s (version %d CURRENT), steps %s, "
                            + "%s %s (version %d CURRENT), steps %s, app restarts %d at kill / %d after, %d ms%n",
                    point, statusAtKill, status, currentVersion, steps, OTHER,
                    otherStatus == null ? "not rotated" : otherStatus, otherVersion, otherSteps, restartsAtKill,
                    restartCount(), (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /**
     * Go-live: the app runs with a hand-made env file (not written by ltc-secrets), and its key is imported.
     * The import replaces the file, then restarts the app; the service is killed while it restarts. Before
     * replacing, the import kept the hand-made bytes in the data directory (mode 0600); recovery puts them
     * back, byte for byte, and removes the copy.
     */
    @org.junit.jupiter.api.Test
    void aKill9DuringAnImportPutsTheHandMadeFileBack() throws Exception {
        String key = "handMade_" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW".substring(0, 55);
        String handMade = "# written by the ops team before go-live\nLTC_ENV=" + ENV + "\nLTC_SECRET_KEY=" + key
                + "\n" + OTHER + "=ops-chose-this-one-too-0123456789abcdef\n";
        Files.createDirectories(envFile.getParent());
        Files.writeString(envFile, handMade, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(envFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path backups = data.resolve("import-backups");
        String id;
        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            grant(service, token, ENV, "secret:rotate");
            grant(service, token, ENV, "env-file:read");
            assertThat(Files.readString(envFile)).as("the first start leaves a hand-made file alone").isEqualTo(handMade);

            Files.writeString(sleepFile, "30\n");
            Response accepted = as(service, token).contentType(ContentType.JSON)
                    .body(Map.of("value", key, "reason", "adopt the hand-made key"))
                    .post("/api/v1/environments/" + ENV + "/secrets/LTC_SECRET_KEY/import");
            assertThat(accepted.statusCode()).as(accepted.asString()).isEqualTo(202);
            id = accepted.jsonPath().getString("id");
            awaitRestartCount(1); // the file is replaced; the app is being restarted on it
            assertThat(as(service, token).get("/api/v1/rotations/" + id).jsonPath()
                    .getString("status")).isEqualTo("RUNNING");
            String replaced = Files.readString(envFile);
            assertThat(replaced).as("the import replaced the file").startsWith("# ltc-secrets env file:")
                    .contains("LTC_SECRET_KEY=" + key);
            try (Stream<Path> kept = Files.list(backups)) {
                List<Path> copies = kept.toList();
                assertThat(copies).as("the copy of the replaced file").hasSize(1);
                assertThat(Files.readString(copies.get(0))).isEqualTo(handMade);
                assertThat(FileModes.stat(copies.get(0))).isEqualTo("600");
            }
            assertThat(FileModes.stat(backups)).isEqualTo("700");
            service.kill();
        }
        int restartsAtKill = restartCount();
        endLeftoverRestarts();
        Files.writeString(sleepFile, "0\n");

        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            JsonPath done = awaitFinished(service, token, id);
            assertThat(done.getString("status")).as(done.prettify()).isEqualTo("ROLLED_BACK");
            assertThat(stepField(done, "restore-env-file", "detail")).as(done.prettify())
                    .contains("the file that was there before the import is back");
            assertThat(Files.readString(envFile)).as("the hand-made file, byte for byte").isEqualTo(handMade);
            assertThat(FileModes.stat(envFile)).isEqualTo("600");
            assertThat(restartCount()).as("the app restarted on the hand-made file").isGreaterThan(restartsAtKill);
            try (Stream<Path> kept = Files.list(backups)) {
                assertThat(kept.toList()).as("the copy is removed once the file is back").isEmpty();
            }
            long current = currentVersionOf(service, token, "LTC_SECRET_KEY");
            assertThat(current).isEqualTo(1L);
            JsonPath verify = as(service, token).get("/api/v1/audit/verify").jsonPath();
            assertThat(verify.getBoolean("valid")).as(verify.prettify()).isTrue();
        }
    }

    private static String stepField(JsonPath rotation, String name, String field) {
        List<Map<String, Object>> steps = rotation.getList("steps");
        return steps.stream().filter(s -> name.equals(s.get("name"))).map(s -> String.valueOf(s.get(field)))
                .reduce((a, b) -> b).orElse(null);
    }

    // ---- the app's restarts ------------------------------------------------------------------------

    private int restartCount() throws IOException {
        return Files.exists(restarts) ? Files.readAllLines(restarts).size() : 0;
    }

    private void awaitRestartCount(int n) {
        Poll.atMost(MARKER_DEADLINE).alias(n + " restart marker(s)").until(() -> restartCount() >= n);
    }

    /** A SIGKILL of the service leaves its restart command running; end those by the pids they wrote. */
    private void endLeftoverRestarts() throws IOException {
        if (!Files.exists(restarts)) {
            return;
        }
        for (String line : Files.readAllLines(restarts)) {
            if (line.isBlank()) {
                continue;
            }
            ProcessHandle.of(Long.parseLong(line.trim()))
                    .filter(h -> h.info().command().map(c -> c.endsWith("sleep")).orElse(false))
                    .ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    // ---- the service -------------------------------------------------------------------------------

    private ServiceProcess start() throws IOException {
        Path log = tmp.resolve("service-" + (++starts) + ".log");
        return ServiceProcess.dev(tmp, data, policies, fileRoot).log(log).startHealthy(START_DEADLINE);
    }

    // ---- API calls ---------------------------------------------------------------------------------

    /** The one CURRENT version of a secret; asserts there is exactly one and no PENDING one. */
    private static long currentVersionOf(ServiceProcess service, String token, String secret)
            throws IOException, InterruptedException {
        List<Map<String, Object>> versions = as(service, token)
                .get("/api/v1/environments/" + ENV + "/secrets/" + secret + "/versions").jsonPath().getList("");
        List<Map<String, Object>> current = versions.stream().filter(v -> "CURRENT".equals(v.get("state"))).toList();
        assertThat(current).as(secret + " CURRENT versions: " + versions).hasSize(1);
        assertThat(versions).as(secret + " versions").noneMatch(v -> "PENDING".equals(v.get("state")));
        return ((Number) current.get(0).get("version")).longValue();
    }

    private static String otherOf(String envFile) {
        Matcher m = OTHER_LINE.matcher(envFile);
        assertThat(m.find()).as("an " + OTHER + " line in:\n" + envFile).isTrue();
        return m.group(1);
    }

    private static String secretOf(String envFile) {
        Matcher m = SECRET_LINE.matcher(envFile);
        assertThat(m.find()).as("an LTC_SECRET_KEY line of 64 base64url characters in:\n" + envFile).isTrue();
        return m.group(1);
    }
}
