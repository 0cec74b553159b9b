package org.lifetimecircle.secrets.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import jakarta.inject.Inject;
import java.time.Duration;
import io.quarkus.narayana.jta.QuarkusTransaction;
import java.time.Instant;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The rotation engine and the env file against the real app: real SQLite, real files, real modes.
 * Uses the staging environment (the matrix test rotates prod), one secret: LTC_SECRET_KEY.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class RotationEngineTest {

    private static final String ENV = "staging";
    private static final String SECRET = "LTC_SECRET_KEY";
    private static final String BASE = "/api/v1/environments/" + ENV;
    private static String engineer;

    @BeforeEach
    void grants() {
        if (engineer != null) {
            return;
        }
        String name = Api.uniqueName("rotator");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(201);
        engineer = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        for (String permission : List.of("secret:rotate", "env-file:read", "env-file:write")) {
            as(engineer).contentType(ContentType.JSON).body(Map.of("principal", name, "environment", ENV,
                            "permission", permission, "ttl", "PT20H", "reason", "rotation engine test"))
                    .post("/api/v1/grants").then().statusCode(201);
        }
    }

    private static Path envFile() {
        return TestDataDir.fileRoot().resolve("etc/lifetimecircle/staging.env");
    }

    private static String served() {
        return as(engineer).get(BASE + "/env-file").then().statusCode(200).extract().asString();
    }

    private static String valueIn(String envFile, String name) {
        return envFile.lines().filter(l -> l.startsWith(name + "=")).map(l -> l.substring(name.length() + 1))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not in the env file"));
    }

    private static List<Map<String, Object>> versions() {
        return as(engineer).get(BASE + "/secrets/" + SECRET + "/versions").then().statusCode(200)
                .extract().jsonPath().getList("$");
    }

    private static JsonPath rotate() {
        Rotations.awaitIdle(engineer, ENV);
        return Rotations.rotateAndWait(engineer, ENV, SECRET);
    }

    @Test
    void aRotationWritesTheNewValueAtThePolicyModeAndKeepsThePreviousOne() throws Exception {
        String before = served();
        String oldValue = valueIn(before, SECRET);
        JsonPath r = rotate();
        assertThat(r.getString("status")).isEqualTo("COMPLETED");
        assertThat(r.getString("kind")).isEqualTo("MANUAL");
        assertThat(r.getList("steps.name")).containsSubsequence("request", "generate", "store-pending", "start",
                "write-env-file", "promote", "finish");
        long to = r.getLong("toVersion");
        assertThat(to).isEqualTo(r.getLong("fromVersion") + 1);

        String after = served();
        byte[] onDisk = Files.readAllBytes(envFile());
        assertThat(new String(onDisk, StandardCharsets.UTF_8)).isEqualTo(after);
        assertThat(after).startsWith("# ltc-secrets env file: environment=staging version=LTC_SECRET_KEY:" + to + " ");
        String newValue = valueIn(after, SECRET);
        assertThat(newValue).isNotEqualTo(oldValue).hasSize(64).matches("[A-Za-z0-9_-]{64}");
        assertThat(FileModes.stat(envFile())).isEqualTo("640"); // the staging test policy's mode

        List<Map<String, Object>> versions = versions();
        assertThat(versions.get(0)).containsEntry("state", "CURRENT").containsEntry("version", (int) to);
        assertThat(versions.get(1)).containsEntry("state", "PREVIOUS");
        assertThat(versions).extracting(v -> v.get("fingerprint")).allSatisfy(f -> assertThat((String) f)
                .matches("hmac-sha256:[0-9a-f]{64}"));
        assertThat(versions.toString()).doesNotContain(newValue).doesNotContain(oldValue);
        // Only one PREVIOUS: the one before it is RETIRED and its ciphertext destroyed.
        rotate();
        assertThat(versions()).extracting(v -> v.get("state")).containsOnlyOnce("CURRENT", "PREVIOUS");
        assertThat(Db.queryLong("select count(*) from secret_version where environment = 'staging' "
                + "and state = 'RETIRED' and ciphertext is not null")).isZero();
    }

    @Test
    void theServedFileIsByteForByteTheFileOnDiskWithItsHeaders() throws Exception {
        Rotations.awaitIdle(engineer, ENV);
        Response r = as(engineer).get(BASE + "/env-file");
        r.then().statusCode(200)
                .header("Cache-Control", "no-store")
                .header("Content-Type", startsWith("text/plain"))
                .header("X-Secret-Version", startsWith("LTC_SECRET_KEY:"));
        byte[] body = r.asByteArray();
        assertThat(body).isEqualTo(Files.readAllBytes(envFile()));
        String etag = r.header("ETag");
        assertThat(etag).matches("\"[0-9a-f]{64}\"");
        as(engineer).header("If-None-Match", etag).get(BASE + "/env-file").then().statusCode(304)
                .header("ETag", etag);
        as(engineer).header("If-None-Match", "\"" + "0".repeat(64) + "\"").get(BASE + "/env-file").then()
                .statusCode(200);
    }

    @Test
    void rollbackRestoresThePreviousValueOnDiskAndInTheApi() throws Exception {
        rotate();
        String previousValue = valueIn(served(), SECRET);
        JsonPath second = rotate();
        assertThat(valueIn(served(), SECRET)).isNotEqualTo(previousValue);

        Rotations.awaitIdle(engineer, ENV);
        String id = as(engineer).contentType(ContentType.JSON).body(Map.of("reason", "bad deploy"))
                .post(BASE + "/secrets/" + SECRET + "/rollback").then().statusCode(202)
                .body("kind", equalTo("ROLLBACK")).extract().path("id");
        JsonPath done = Rotations.awaitFinished(engineer, id);
        assertThat(done.getString("status")).isEqualTo("COMPLETED");
        assertThat(done.getLong("toVersion")).isEqualTo(second.getLong("fromVersion"));

        String file = Files.readString(envFile());
        assertThat(valueIn(file, SECRET)).isEqualTo(previousValue);
        assertThat(served()).isEqualTo(file);
        List<Map<String, Object>> versions = versions();
        Map<Object, Object> stateOf = new java.util.HashMap<>();
        versions.forEach(v -> stateOf.put(((Number) v.get("version")).longValue(), v.get("state")));
        assertThat(stateOf.get(second.getLong("fromVersion"))).isEqualTo("CURRENT");
        assertThat(stateOf.get(second.getLong("toVersion"))).isEqualTo("RETIRED");
        // Nothing left to roll back to.
        as(engineer).contentType(ContentType.JSON).body(Map.of("reason", "again"))
                .post(BASE + "/secrets/" + SECRET + "/rollback").then().statusCode(409).body("code", equalTo("conflict"));
    }

    @Test
    void parallelRotationRequestsNeverRunTwoAtOnce() throws Exception {
        Rotations.awaitIdle(engineer, ENV);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<Response>> futures = new ArrayList<>();
        try {
            for (int i = 0; i < 32; i++) {
                Callable<Response> call = () -> as(engineer).contentType(ContentType.JSON)
                        .body(Map.of("reason", "storm")).post(BASE + "/secrets/" + SECRET + "/rotations");
                futures.add(pool.submit(call));
            }
            List<String> accepted = new ArrayList<>();
            for (Future<Response> f : futures) {
                Response r = f.get();
                assertThat(r.statusCode()).isIn(202, 409);
                if (r.statusCode() == 202) {
                    accepted.add(r.path("id"));
                } else {
                    assertThat(r.<String>path("code")).isEqualTo("conflict");
                }
            }
            assertThat(accepted).isNotEmpty();
            for (String id : accepted) {
                assertThat(Rotations.awaitFinished(engineer, id).getString("status")).isEqualTo("COMPLETED");
            }
        } finally {
            pool.shutdownNow();
        }
        List<Map<String, Object>> versions = versions();
        assertThat(versions).extracting(v -> v.get("state")).containsOnlyOnce("CURRENT");
        List<Long> numbers = versions.stream().map(v -> ((Number) v.get("version")).longValue()).sorted().toList();
        for (int i = 0; i < numbers.size(); i++) {
            assertThat(numbers.get(i)).as("versions are contiguous from 1").isEqualTo(i + 1L);
        }
        assertThat(Db.queryLong("select count(*) from secret_version where environment = 'staging' "
                + "and state = 'PENDING'")).isZero();
    }

    @Test
    void anImportedValueBecomesCurrentAndBadValuesAreRefusedWithoutEchoingThem() throws Exception {
        byte[] random = new byte[48];
        new SecureRandom().nextBytes(random);
        String value = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Rotations.awaitIdle(engineer, ENV);
        String id = as(engineer).contentType(ContentType.JSON).body(Map.of("value", value, "reason", "go-live"))
                .post(BASE + "/secrets/" + SECRET + "/import").then().statusCode(202)
                .body("kind", equalTo("IMPORT")).extract().path("id");
        assertThat(Rotations.awaitFinished(engineer, id).getString("status")).isEqualTo("COMPLETED");
        assertThat(valueIn(Files.readString(envFile()), SECRET)).isEqualTo(value);

        for (String bad : List.of("short-" + value.substring(0, 10), value.substring(0, 60) + "+/==",
                value + "\nEVIL=1")) {
            String body = as(engineer).contentType(ContentType.JSON).body(Map.of("value", bad, "reason", "x"))
                    .post(BASE + "/secrets/" + SECRET + "/import").then().statusCode(422)
                    .body("code", equalTo("policy-violation")).extract().asString();
            assertThat(body).doesNotContain(bad).doesNotContain(value.substring(0, 10));
        }
        as(engineer).contentType(ContentType.JSON).body(Map.of("reason", "x"))
                .post(BASE + "/secrets/" + SECRET + "/import").then().statusCode(400);
        as(engineer).contentType(ContentType.JSON).body(Map.of("value", value, "reason", "x", "extra", 1))
                .post(BASE + "/secrets/" + SECRET + "/import").then().statusCode(400);
    }

    @Test
    void badRotationRequestsAre4xxAndChangeNothing() throws Exception {
        Rotations.awaitIdle(engineer, ENV);
        long rotations = Db.queryLong("select count(*) from rotation");
        as(engineer).contentType(ContentType.JSON).body("{}").post(BASE + "/secrets/" + SECRET + "/rotations")
                .then().statusCode(400);
        as(engineer).contentType(ContentType.JSON).body(Map.of("reason", "a\nb"))
                .post(BASE + "/secrets/" + SECRET + "/rotations").then().statusCode(400);
        as(engineer).contentType(ContentType.JSON).body(Map.of("reason", "x"))
                .post(BASE + "/secrets/NOT_A_SECRET/rotations").then().statusCode(404);
        as(engineer).contentType(ContentType.JSON).body(Map.of("reason", "x"))
                .post(BASE + "/secrets/lower/rotations").then().statusCode(400);
        as(engineer).contentType(ContentType.JSON).body("{\"reason\":")
                .post(BASE + "/secrets/" + SECRET + "/rotations").then().statusCode(400);
        as(engineer).get("/api/v1/rotations/not-an-id").then().statusCode(400);
        as(engineer).get("/api/v1/rotations/0123456789abcdef").then().statusCode(404);
        as(engineer).get("/api/v1/rotations?kind=SIDEWAYS").then().statusCode(400);
        assertThat(Db.queryLong("select count(*) from rotation")).isEqualTo(rotations);
    }

    @Test
    void anUnwritableDirectoryIsA500AndAFailedRotationThatNameNoExceptionClass() throws Exception {
        // drills/faults.sh found "FileSystemException (…: Read-only file system)" in the 500's detail; the
        // contract allows no class name in an error. A regular file where the env file's directory should
        // be fails the same way for root, which ignores the permission bits of a read-only directory.
        Rotations.awaitIdle(engineer, ENV);
        String before = served();
        Path dir = envFile().getParent();
        Path aside = dir.resolveSibling(dir.getFileName() + ".aside");
        Files.move(dir, aside);
        Files.writeString(dir, "not a directory\n");
        try {
            as(engineer).post(BASE + "/env-file/write").then().statusCode(500)
                    .contentType("application/problem+json")
                    .body("code", equalTo("env-file-unwritable"))
                    .body("detail", org.hamcrest.Matchers.allOf(org.hamcrest.Matchers.containsString("Not a directory"),
                            org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString("Exception"))));
            JsonPath r = Rotations.awaitFinished(engineer, Rotations.rotate(engineer, ENV, SECRET));
            assertThat(r.getString("status")).isEqualTo("FAILED");
            assertThat(r.getList("steps.detail", String.class)).filteredOn(java.util.Objects::nonNull)
                    .anyMatch(d -> d.contains("Not a directory")).noneMatch(d -> d.contains("Exception"));
        } finally {
            Files.delete(dir);
            Files.move(aside, dir);
        }
        assertThat(served()).isEqualTo(before);
        assertThat(Files.readString(envFile())).isEqualTo(before);
        assertThat(versions()).extracting(v -> v.get("state")).containsOnlyOnce("CURRENT").doesNotContain("PENDING");
    }

    @Test
    void aWriteThatFailsLeavesTheCurrentVersionAndNoTemporaryFiles() throws Exception {
        Rotations.awaitIdle(engineer, ENV);
        String before = served();
        Path file = envFile();
        Path aside = file.resolveSibling("staging.env.aside");
        // A directory where the env file should be: the writer must refuse it and write nothing.
        Files.move(file, aside);
        Files.createDirectory(file);
        try {
            String id = Rotations.rotate(engineer, ENV, SECRET);
            JsonPath r = Rotations.awaitFinished(engineer, id);
            assertThat(r.getString("status")).isEqualTo("FAILED");
            assertThat(r.getList("steps.status")).contains("FAILED");
            assertThat(served()).isEqualTo(before);
            // Not a file this service wrote: refused as a conflict, nothing replaced.
            as(engineer).post(BASE + "/env-file/write").then().statusCode(409).body("code", equalTo("conflict"));
        } finally {
            Files.delete(file);
            Files.move(aside, file);
        }
        try (Stream<Path> siblings = Files.list(file.getParent())) {
            assertThat(siblings.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        }
        assertThat(versions()).extracting(v -> v.get("state")).containsOnlyOnce("CURRENT").doesNotContain("PENDING");
        JsonPath written = as(engineer).post(BASE + "/env-file/write").then().statusCode(200).extract().jsonPath();
        assertThat(written.getString("mode")).isEqualTo("0640");
        assertThat(Files.readString(file)).isEqualTo(before);
        // Keyed: the engineer may write the file but not read it, so no plain hash of it.
        assertThat(written.getString("sha256")).isNull();
        assertThat(written.getString("fingerprint")).matches("hmac-sha256:[0-9a-f]{64}");
    }

    @Test
    void noGeneratedValueEverReachesTheDatabaseFilesOrTheAuditTrail() throws Exception {
        Set<String> values = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            rotate();
            values.add(valueIn(served(), SECRET));
        }
        values.add(valueIn(Files.readString(TestDataDir.fileRoot().resolve("etc/lifetimecircle/prod.env")), SECRET));
        // Force pages through the WAL too: scan the database, its WAL and shared memory as they are.
        for (String suffix : List.of("", "-wal", "-shm")) {
            Path f = TestDataDir.dataDir().resolve("ltc-secrets.db" + suffix);
            if (!Files.exists(f)) {
                continue;
            }
            String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
            for (String v : values) {
                assertThat(bytes.contains(v)).as(f + " contains a secret value").isFalse();
            }
        }
        String export = as(adminToken()).get("/api/v1/audit/export?format=jsonl").then().statusCode(200)
                .extract().asString();
        for (String v : values) {
            assertThat(export).doesNotContain(v);
        }
    }

    @Test
    void aCiphertextMovedToAnotherVersionDoesNotDecrypt() throws Exception {
        rotate();
        Rotations.awaitIdle(engineer, ENV);
        // Give CURRENT the PREVIOUS version's ciphertext: bound to another version, it must not open.
        Db.exec("update secret_version set ciphertext = (select ciphertext from secret_version p where "
                + "p.environment = 'staging' and p.state = 'PREVIOUS') where environment = 'staging' and state = 'CURRENT'");
        try {
            String body = as(engineer).get(BASE + "/env-file").then().statusCode(500).extract().asString();
            assertThat(body).doesNotContain("LTC_SECRET_KEY=");
        } finally {
            // Put the environment back in order for the other tests: a fresh rotation would need CURRENT to open,
            // so make the broken row's version RETIRED via a rollback-free repair: rotate from PREVIOUS.
            Db.exec("update secret_version set state = 'RETIRED', ciphertext = null where environment = 'staging' "
                    + "and state = 'CURRENT'",
                    "update secret_version set state = 'CURRENT' where environment = 'staging' and state = 'PREVIOUS'");
        }
        assertThat(served()).contains("LTC_SECRET_KEY=");
    }

    @Inject
    PreviousRetirement retirement;

    @Test
    void aPreviousVersionIsRetiredAfterItsGraceAndLeavesTheFile() throws Exception {
        rotate();
        String file = Files.readString(envFile());
        String previous = valueIn(file, "LTC_SECRET_KEY_PREVIOUS");
        long previousVersion = versions().stream().filter(v -> "PREVIOUS".equals(v.get("state")))
                .mapToLong(v -> ((Number) v.get("version")).longValue()).findFirst().orElseThrow();
        // Within the grace (the policy's default P7D) nothing happens.
        retirement.retireExpired(TestClock.now().plus(Duration.ofDays(6)));
        assertThat(versions()).extracting(v -> v.get("state")).contains("PREVIOUS");

        assertThat(retirement.retireExpired(TestClock.now().plus(Duration.ofDays(8)))).isPositive();
        assertThat(versions()).extracting(v -> v.get("state")).doesNotContain("PREVIOUS");
        assertThat(Db.queryLong("select count(*) from secret_version where environment = 'staging' and version = "
                + previousVersion + " and state = 'RETIRED' and ciphertext is null")).isEqualTo(1);
        String after = Files.readString(envFile());
        assertThat(after).doesNotContain("LTC_SECRET_KEY_PREVIOUS").doesNotContain(previous);
        assertThat(served()).isEqualTo(after);
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'secret.retire' and actor = "
                + "'scheduler' and environment = 'staging' and details like '%\"version\":" + previousVersion + "}%'"))
                .isEqualTo(1);
    }

    @Test
    void everyRotationAndFetchIsAudited() throws Exception {
        JsonPath r = rotate();
        String id = r.getString("id");
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'rotation.request' "
                + "and details like '%" + id + "%'")).isEqualTo(1);
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'rotation.complete' "
                + "and details like '%" + id + "%' and environment = 'staging'")).isEqualTo(1);
        String rid = "fetch-" + System.nanoTime();
        as(engineer).header("X-Request-Id", rid).get(BASE + "/env-file").then().statusCode(200);
        List<Map<String, Object>> events = Db.eventsOf(rid);
        assertThat(events).hasSize(1);
        assertThat(events.get(0)).containsEntry("action", "envfile.read").containsEntry("outcome", "SUCCESS");
        assertThat((String) events.get(0).get("details")).contains("\"grant\":")
                .contains("\"fingerprint\":\"hmac-sha256:").doesNotContain("sha256\":");
    }

    @Inject
    StageJournal journal;
    @Inject
    AuditWriter writer;
    @Inject
    EnvFileService files;
    @Inject
    RotationRepository rotationRows;

    @Test
    void theStartStepIsJournaledOnceEvenWhenItsCommitIsSubmittedAgain() throws Exception {
        // StageJournal.commit() submits a stage again when the writer did not answer within its timeout, though the first
        // submission may still commit: the start unit then runs twice. Here it does, for real, through the
        // writer, while the job waits on the environment's lock (the test holds it); the job then runs it a
        // third time itself.
        Rotations.awaitIdle(engineer, ENV);
        ReentrantLock lock = files.lock(ENV);
        lock.lock();
        String id;
        try {
            id = Rotations.rotate(engineer, ENV, SECRET);
            RotationEntity row = QuarkusTransaction.requiringNew().call(() -> rotationRows.findById(id));
            Instant promotedAt = TestClock.now();
            writer.submit(journal.startUnit(row, "start-again-1", promotedAt));
            writer.submit(journal.startUnit(row, "start-again-2", promotedAt));
        } finally {
            lock.unlock();
        }
        JsonPath r = Rotations.awaitFinished(engineer, id);
        assertThat(r.getString("status")).isEqualTo("COMPLETED");
        assertThat(r.getList("steps.name", String.class)).as(r.prettify()).containsOnlyOnce("start")
                .containsSubsequence("request", "generate", "store-pending", "start", "write-env-file", "promote",
                        "finish");
    }
}
