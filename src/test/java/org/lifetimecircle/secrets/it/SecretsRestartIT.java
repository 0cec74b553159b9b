package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;
import static org.lifetimecircle.secrets.testing.Api.grant;
import static org.lifetimecircle.secrets.testing.Rotations.awaitFinished;
import static org.lifetimecircle.secrets.testing.Rotations.rotate;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.Processes;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * Black-box restart tests of the packaged jar (dev profile, everything in a temporary directory): what
 * survives a clean stop, a kill -9 in the middle of rotations, another master key, a foreign env file
 * and a changed policy. Each start is a real process on the same data directory as the one before.
 */
class SecretsRestartIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(60);
    private static final Duration JOB_DEADLINE = Duration.ofSeconds(30);
    private static final String HEADER = "# ltc-secrets env file: ";
    private static final Pattern SECRET_LINE = Pattern.compile("(?m)^LTC_SECRET_KEY=([A-Za-z0-9_-]{64})$");
    private static final Pattern ENV_LINE = Pattern.compile("[A-Z_][A-Z0-9_]*=[^\\n]*");

    @TempDir
    Path tmp;
    Path data;
    Path policies;
    Path fileRoot;
    Path prodEnv;
    int starts;

    @BeforeEach
    void layout() throws IOException {
        data = tmp.resolve("data");
        fileRoot = data.resolve("root"); // the dev profile's default, made explicit
        prodEnv = fileRoot.resolve("etc/lifetimecircle/prod.env");
        policies = tmp.resolve("policies");
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
    }

    @Test
    void valuesSurviveARestartUnderTheSameMasterKey() throws Exception {
        byte[] served;
        byte[] onDisk;
        long version;
        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            grant(service, token, "prod", "secret:rotate");
            grant(service, token, "prod", "env-file:read");
            JsonPath done = awaitFinished(service, token, rotate(service, token, "prod", "LTC_SECRET_KEY"));
            assertThat(done.getString("status")).isEqualTo("COMPLETED");
            assertThat(done.getLong("toVersion")).isEqualTo(2L);

            served = envFile(service, token, "prod").asByteArray();
            onDisk = Files.readAllBytes(prodEnv);
            assertThat(onDisk).isEqualTo(served);
            assertThat(FileModes.stat(prodEnv)).isEqualTo("600");
            version = currentVersion(service, token, "prod");
            assertThat(version).isEqualTo(2L);
            assertThat(service.stop()).isIn(0, 143);
        }

        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            assertThat(Files.readAllBytes(prodEnv)).as("env file on disk after the restart").isEqualTo(onDisk);
            assertThat(envFile(service, token, "prod").asByteArray()).as("env file served after the restart")
                    .isEqualTo(served);
            assertThat(FileModes.stat(prodEnv)).isEqualTo("600");
            assertThat(currentVersion(service, token, "prod")).isEqualTo(version);
        }
    }

    @Test
    void anotherMasterKeyCannotOpenTheStoreAndStartIsRefused() throws Exception {
        String secretValue;
        byte[] onDisk;
        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            grant(service, token, "prod", "env-file:read");
            secretValue = secretOf(new String(envFile(service, token, "prod").asByteArray(), StandardCharsets.UTF_8));
            onDisk = Files.readAllBytes(prodEnv);
            assertThat(service.stop()).isIn(0, 143);
        }
        Path key = data.resolve("master.key");
        String oldKey = Files.readString(key);
        Processes.Result rand = Processes.run(List.of("openssl", "rand", "-base64", "32"));
        assertThat(rand.exit()).isZero();
        assertThat(rand.output()).matches("[A-Za-z0-9+/]{43}=\n").isNotEqualTo(oldKey);
        Files.delete(key); // mode 0400: replaced, not written through
        Files.writeString(key, rand.output(), StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("r--------"));

        try (ServiceProcess service = start(false)) {
            assertThat(service.awaitExit(START_DEADLINE)).as("exit code with another master key").isNotZero();
            assertThat(Files.readAllBytes(prodEnv)).as("env file after the refused start").isEqualTo(onDisk);
            assertThat(FileModes.stat(prodEnv)).isEqualTo("600");
            String log = service.output();
            assertThat(log).as("no secret or key material in the log")
                    .doesNotContain(secretValue).doesNotContain(rand.output().trim()).doesNotContain(oldKey.trim());
            assertThat(log.toLowerCase()).as("the refusal names the master key:\n" + log)
                    .contains("refused to start").contains("master key");
            // Quarkus prints its own wrapper's frames for any refusal; the service's own frames mean a crash.
            assertThat(log).as("a refusal, not a crash:\n" + log)
                    .doesNotContainPattern("(?m)^\\s+at org\\.lifetimecircle\\.");
        }
    }

    @Test
    void aForeignEnvFileIsNeverOverwrittenUntilImported() throws Exception {
        String value = randomBase64Url(64);
        byte[] foreign = ("LTC_SECRET_KEY=" + value + "\nLTC_ENV=prod\n").getBytes(StandardCharsets.US_ASCII);
        Files.createDirectories(prodEnv.getParent());
        Files.write(prodEnv, foreign);
        Files.setPosixFilePermissions(prodEnv, PosixFilePermissions.fromString("rw-------"));

        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            assertThat(Files.readAllBytes(prodEnv)).as("a foreign file is left alone at start").isEqualTo(foreign);
            assertThat(conflict(service, token, "prod")).as("prod envFile.conflict").isTrue();
            assertThat(conflict(service, token, "staging")).as("staging envFile.conflict").isFalse();

            grant(service, token, "prod", "secret:rotate");
            JsonPath manual = awaitFinished(service, token, rotate(service, token, "prod", "LTC_SECRET_KEY"));
            assertThat(manual.getString("status")).as("a MANUAL rotation over a foreign file: " + manual.prettify())
                    .isEqualTo("FAILED");
            assertThat(Files.readAllBytes(prodEnv)).as("a MANUAL rotation leaves a foreign file alone").isEqualTo(foreign);
            assertThat(conflict(service, token, "prod")).isTrue();

            grant(service, token, "prod", "env-file:read"); // an import chooses the key: it needs the read grant too
            Response imported = as(service, token).contentType(ContentType.JSON)
                    .body(Map.of("value", value, "reason", "adopt the existing key"))
                    .post("/api/v1/environments/prod/secrets/LTC_SECRET_KEY/import");
            assertThat(imported.statusCode()).as(imported.asString()).isEqualTo(202);
            assertThat(imported.asString()).doesNotContain(value);
            JsonPath done = awaitFinished(service, token, imported.jsonPath().getString("id"));
            assertThat(done.getString("status")).as(done.prettify()).isEqualTo("COMPLETED");
            assertThat(done.getString("kind")).isEqualTo("IMPORT");

            String after = Files.readString(prodEnv, StandardCharsets.UTF_8);
            assertThat(after).startsWith(HEADER).contains("\nLTC_ENV=prod\n");
            assertThat(secretOf(after)).isEqualTo(value);
            assertThat(FileModes.stat(prodEnv)).isEqualTo("600");
            assertThat(conflict(service, token, "prod")).as("prod envFile.conflict after the import").isFalse();
        }
    }

    @Test
    void changedStaticVariablesAreReRenderedAtStart() throws Exception {
        String secretBefore;
        long headBefore;
        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            String before = Files.readString(prodEnv, StandardCharsets.UTF_8);
            assertThat(before).contains("\nCANARY_STATIC=static-canary-value-7f3a\n");
            secretBefore = secretOf(before);
            headBefore = as(service, token).get("/api/v1/audit/verify").jsonPath().getLong("headSeq");
            assertThat(service.stop()).isIn(0, 143);
        }
        Path prodYaml = policies.resolve("environments/prod.yaml");
        String yaml = Files.readString(prodYaml);
        assertThat(yaml).contains("CANARY_STATIC: static-canary-value-7f3a");
        Files.writeString(prodYaml, yaml.replace("CANARY_STATIC: static-canary-value-7f3a",
                "CANARY_STATIC: changed-canary-value-19c2"));

        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            String after = Files.readString(prodEnv, StandardCharsets.UTF_8);
            assertThat(after).startsWith(HEADER).contains("\nCANARY_STATIC=changed-canary-value-19c2\n")
                    .doesNotContain("static-canary-value-7f3a");
            assertThat(secretOf(after)).as("the secret is unchanged by a re-render").isEqualTo(secretBefore);
            assertThat(FileModes.stat(prodEnv)).isEqualTo("600");

            List<Map<String, Object>> writes = as(service, token)
                    .get("/api/v1/audit/events?action=envfile.write&environment=prod&after=" + headBefore)
                    .jsonPath().getList("");
            assertThat(writes).as("envfile.write events after the restart: " + writes)
                    .anySatisfy(e -> {
                        assertThat(e.get("actor")).isEqualTo("system");
                        assertThat(e.get("outcome")).isEqualTo("SUCCESS");
                    });
            assertThat(writes.toString()).doesNotContain(secretBefore);
        }
    }

    @Test
    void noTemporaryFilesRemainAfterAKill9DuringRotations() throws Exception {
        long seed = new SecureRandom().nextLong();
        long killAfterMillis = 50 + new Random(seed).nextInt(1500); // counted from the first accepted rotation
        System.out.printf("[kill-9] seed %d: kill %d ms into the burst%n", seed, killAfterMillis);
        String last = null;
        ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            grant(service, token, "prod", "secret:rotate");
            int accepted = 0;
            Future<?> kill = null;
            try {
                for (int i = 0; i < 20; i++) {
                    Response r = as(service, token).contentType(ContentType.JSON).body(Map.of("reason", "burst " + i))
                            .post("/api/v1/environments/prod/secrets/LTC_SECRET_KEY/rotations");
                    if (r.statusCode() == 409) {
                        if (last != null) {
                            awaitFinished(service, token, last);
                        }
                        continue;
                    }
                    assertThat(r.statusCode()).as(r.asString()).isEqualTo(202);
                    last = r.jsonPath().getString("id");
                    accepted++;
                    if (kill == null) {
                        // SIGKILL from another thread while the burst goes on: no shutdown hook runs.
                        kill = killer.schedule(service::kill, killAfterMillis, TimeUnit.MILLISECONDS);
                    }
                    awaitFinished(service, token, last);
                }
                System.out.println("[kill-9] the burst ended before the kill");
            } catch (Exception killed) { // REST Assured rethrows the client's IOException unchecked
                if (!(killed instanceof IOException)) {
                    throw killed;
                }
                System.out.printf("[kill-9] killed during the burst (%s)%n", killed.getClass().getSimpleName());
            }
            assertThat(kill).as("at least one rotation accepted").isNotNull();
            kill.get(JOB_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
            System.out.printf("[kill-9] %d rotation(s) accepted before the kill; last %s%n", accepted, last);
        } finally {
            killer.shutdownNow();
        }
        // What a kill between creating and renaming the temporary file leaves behind, planted so the
        // clean-up at start is exercised whatever moment the kill above hit.
        Path leftover = prodEnv.resolveSibling(".prod.env.tmp-0123456789abcdef");
        Files.write(leftover, "LTC_SECRET_KEY=half-written".getBytes(StandardCharsets.US_ASCII));
        Files.setPosixFilePermissions(leftover, PosixFilePermissions.fromString("rw-------"));

        try (ServiceProcess service = start()) {
            String token = adminToken(data);
            service.output().lines().filter(l -> l.contains("restart") || l.contains("leftover"))
                    .forEach(l -> System.out.println("[kill-9] restart log: " + l));
            awaitNoActiveRotations(service, token, "prod");
            assertThat(activeRotations(service, token, "prod", "RUNNING")).isEmpty();
            assertThat(activeRotations(service, token, "prod", "PENDING")).isEmpty();
            if (last != null) {
                JsonPath lastRotation = awaitFinished(service, token, last);
                System.out.printf("[kill-9] the last rotation after the restart: %s, steps %s%n",
                        lastRotation.getString("status"), lastRotation.getList("steps.name"));
            }

            try (Stream<Path> beside = Files.list(prodEnv.getParent())) {
                assertThat(beside.map(p -> p.getFileName().toString()))
                        .noneMatch(n -> n.startsWith(".prod.env.tmp-"))
                        .noneMatch(n -> n.contains(".tmp-"));
            }
            assertThat(FileModes.stat(prodEnv)).isEqualTo("600");
            byte[] disk = Files.readAllBytes(prodEnv);
            String text = new String(disk, StandardCharsets.UTF_8);
            assertParses(text);

            List<Map<String, Object>> versions = as(service, token)
                    .get("/api/v1/environments/prod/secrets/LTC_SECRET_KEY/versions?limit=1000").jsonPath().getList("");
            List<Map<String, Object>> current = versions.stream().filter(v -> "CURRENT".equals(v.get("state"))).toList();
            assertThat(current).as("CURRENT versions: " + versions).hasSize(1);
            assertThat(versions).noneMatch(v -> "PENDING".equals(v.get("state")));
            long currentVersion = ((Number) current.get(0).get("version")).longValue();
            assertThat(currentVersion(service, token, "prod")).isEqualTo(currentVersion);

            grant(service, token, "prod", "env-file:read");
            Response served = envFile(service, token, "prod");
            assertThat(served.asByteArray()).as("served env file equals the file on disk").isEqualTo(disk);
            assertThat(served.header("X-Secret-Version")).isEqualTo("LTC_SECRET_KEY:" + currentVersion);

            JsonPath verify = as(service, token).get("/api/v1/audit/verify").jsonPath();
            assertThat(verify.getBoolean("valid")).as(verify.prettify()).isTrue();
        }
    }

    // ---- the service -----------------------------------------------------------------------------

    private ServiceProcess start() throws IOException {
        return start(true);
    }

    /** Starts the jar on this test's directories; each start logs to its own file. */
    private ServiceProcess start(boolean awaitHealthy) throws IOException {
        Path log = tmp.resolve("service-" + (++starts) + ".log");
        ServiceProcess service = ServiceProcess.dev(tmp, data, policies, fileRoot)
                .log(log)
                .start();
        if (awaitHealthy) {
            try {
                Duration ready = service.awaitHealthy(START_DEADLINE);
                System.out.printf("[restart-it] start %d healthy in %d ms%n", starts, ready.toMillis());
            } catch (AssertionError e) {
                service.close();
                throw e;
            }
        }
        return service;
    }

    // ---- API calls ---------------------------------------------------------------------------------

    private static List<Object> activeRotations(ServiceProcess service, String token, String env, String status)
            throws IOException, InterruptedException {
        Response r = as(service, token).get("/api/v1/rotations?environment=" + env + "&status=" + status);
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r.jsonPath().getList("id");
    }

    /** A rotation journaled PENDING before the kill is resumed after the start; wait for it with a deadline. */
    private static void awaitNoActiveRotations(ServiceProcess service, String token, String env)
            throws IOException, InterruptedException {
        Poll.atMost(JOB_DEADLINE).alias("rotations of " + env + " done after the start")
                .until(() -> activeRotations(service, token, env, "RUNNING").isEmpty()
                        && activeRotations(service, token, env, "PENDING").isEmpty());
    }

    private static Response envFile(ServiceProcess service, String token, String env)
            throws IOException, InterruptedException {
        Response r = as(service, token).get("/api/v1/environments/" + env + "/env-file");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r;
    }

    private static long currentVersion(ServiceProcess service, String token, String env)
            throws IOException, InterruptedException {
        Response r = as(service, token).get("/api/v1/environments/" + env);
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r.jsonPath().getLong("secrets.find { it.name == 'LTC_SECRET_KEY' }.currentVersion");
    }

    private static boolean conflict(ServiceProcess service, String token, String env)
            throws IOException, InterruptedException {
        Response r = as(service, token).get("/api/v1/environments/" + env);
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r.jsonPath().getBoolean("envFile.conflict");
    }

    // ---- env files ---------------------------------------------------------------------------------

    private static String secretOf(String envFile) {
        Matcher m = SECRET_LINE.matcher(envFile);
        assertThat(m.find()).as("an LTC_SECRET_KEY line of 64 base64url characters").isTrue();
        return m.group(1);
    }

    /** One header comment, then NAME=value lines sorted by name, newline-terminated, one LTC_SECRET_KEY. */
    private static void assertParses(String envFile) {
        assertThat(envFile).startsWith(HEADER).endsWith("\n");
        String[] lines = envFile.split("\n", -1);
        List<String> names = new ArrayList<>();
        for (int i = 1; i < lines.length - 1; i++) {
            assertThat(lines[i]).as("line " + (i + 1)).matches(ENV_LINE);
            names.add(lines[i].substring(0, lines[i].indexOf('=')));
        }
        assertThat(names).isSorted().doesNotHaveDuplicates().contains("LTC_SECRET_KEY", "LTC_ENV", "CANARY_STATIC");
        secretOf(envFile);
    }

    private static String randomBase64Url(int length) {
        byte[] bytes = new byte[length];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).substring(0, length);
    }
}
