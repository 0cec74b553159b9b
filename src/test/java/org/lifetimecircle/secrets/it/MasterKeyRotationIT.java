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
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.crypto.Envelope;
import org.lifetimecircle.secrets.crypto.KeyIds;
import org.lifetimecircle.secrets.crypto.MasterKey;
import org.lifetimecircle.secrets.crypto.MasterKeyLoader;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * Black-box tests of master-key rotation with the packaged jar (dev profile, everything in a temporary
 * directory, key files written like {@code openssl rand -base64 32} with mode 0400): a start with the
 * new key and the previous one re-wraps everything in one audited transaction; afterwards the new key
 * alone opens everything and the old one alone opens nothing; a previous key that opens nothing is
 * refused; and a kill -9 in the middle of the re-wrap leaves everything under one of the two keys.
 */
class MasterKeyRotationIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    private static final Duration LOG_DEADLINE = Duration.ofSeconds(90);
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path tmp;
    Path data;
    Path policies;
    Path fileRoot;
    Path keys;
    int starts;

    @BeforeEach
    void layout() throws IOException {
        data = tmp.resolve("data");
        fileRoot = data.resolve("root");
        policies = tmp.resolve("policies");
        keys = tmp.resolve("keys");
        Files.createDirectories(keys);
        Files.createDirectories(policies.resolve("environments"));
        try (Stream<Path> files = Files.list(Path.of("src/test/resources/test-policies/environments"))) {
            for (Path f : files.toList()) {
                // prod and staging have no app section, so their rotations complete here.
                if (Set.of("prod.yaml", "staging.yaml").contains(f.getFileName().toString())) {
                    Files.copy(f, policies.resolve("environments").resolve(f.getFileName()));
                }
            }
        }
    }

    @Test
    void theNewKeyTakesOverEverythingInOneAuditedStepAndTheOldOneIsThenUseless() throws Exception {
        Path a = newKeyFile("a.key");
        Path b = newKeyFile("b.key");
        String idA = keyId(a);
        String idB = keyId(b);
        Map<String, byte[]> served = new TreeMap<>();
        String previousProdValue;
        String publicKeyPem;
        JsonPath checkpointBefore;
        try (ServiceProcess service = start(a, null)) {
            String token = adminToken(data);
            for (String env : List.of("prod", "staging")) {
                grant(service, token, env, "secret:rotate");
                grant(service, token, env, "env-file:read");
            }
            // Several versions: prod 1..4 (CURRENT 4, PREVIOUS 3, older ones RETIRED), staging 1..2.
            for (int i = 0; i < 3; i++) {
                assertThat(awaitFinished(service, token, rotate(service, token, "prod", "LTC_SECRET_KEY"))
                        .getString("status"))
                        .isEqualTo("COMPLETED");
            }
            previousProdValue = secretOf(envFile(service, token, "prod"));
            assertThat(awaitFinished(service, token, rotate(service, token, "prod", "LTC_SECRET_KEY"))
                    .getString("status"))
                    .isEqualTo("COMPLETED");
            assertThat(awaitFinished(service, token, rotate(service, token, "staging", "LTC_SECRET_KEY"))
                    .getString("status"))
                    .isEqualTo("COMPLETED");
            for (String env : List.of("prod", "staging")) {
                served.put(env, envFile(service, token, env));
            }
            checkpointBefore = checkpoint(service, token);
            publicKeyPem = checkpointBefore.getString("publicKeyPem");
            assertThat(service.stop()).isIn(0, 143);
        }
        assertThat(sealedUnder()).as("everything under A before the rotation").containsOnlyKeys(idA);
        long wrapped = sealedUnder().get(idA);

        // B with A as the previous key: everything is re-wrapped, once, audited.
        try (ServiceProcess service = start(b, a)) {
            String token = adminToken(data);
            String log = service.output();
            assertThat(log).contains("re-wrapped 2 installation key(s) and " + (wrapped - 2) + " secret version(s) from "
                    + idA + " to " + idB);
            assertNoKeyMaterial(log, a, b);
            List<Map<String, Object>> rewraps = events(service, token, "masterkey.rewrap");
            assertThat(rewraps).hasSize(1);
            Map<String, Object> rewrap = rewraps.get(0);
            assertThat(rewrap).containsEntry("actor", "system").containsEntry("outcome", "SUCCESS")
                    .containsEntry("target", idB);
            assertThat(rewrap.get("details")).isEqualTo(Map.of("fromKeyId", idA, "toKeyId", idB,
                    "installationKeys", 2, "secretVersions", (int) (wrapped - 2)));
            Map<String, Object> start = last(events(service, token, "system.start"));
            assertThat(details(start)).containsEntry("masterKeyId", idB).containsEntry("previousMasterKeyId", idA)
                    .containsEntry("rewrappedKeys", (int) wrapped);
            assertThat(sealedUnder()).as("everything under B after the re-wrap").isEqualTo(Map.of(idB, wrapped));

            for (String env : List.of("prod", "staging")) {
                assertThat(envFile(service, token, env)).as(env + " env file under the new key").isEqualTo(served.get(env));
            }
            assertAuditIntact(service, token, publicKeyPem, checkpointBefore);
            // The PREVIOUS version (re-wrapped too) comes back with a rollback.
            Response rollback = as(service, token).contentType(ContentType.JSON)
                    .body(Map.of("reason", "master key rotation test"))
                    .post("/api/v1/environments/prod/secrets/LTC_SECRET_KEY/rollback");
            assertThat(rollback.statusCode()).as(rollback.asString()).isEqualTo(202);
            assertThat(awaitFinished(service, token, rollback.jsonPath().getString("id")).getString("status"))
                    .isEqualTo("COMPLETED");
            assertThat(secretOf(envFile(service, token, "prod"))).isEqualTo(previousProdValue);
            served.put("prod", envFile(service, token, "prod"));
            assertThat(service.stop()).isIn(0, 143);
        }

        // A restart with the previous key still configured: nothing left to do, and no second event.
        try (ServiceProcess service = start(b, a)) {
            String token = adminToken(data);
            assertThat(service.output()).contains("nothing is sealed under the previous master key " + idA);
            assertThat(events(service, token, "masterkey.rewrap")).hasSize(1);
            assertThat(details(last(events(service, token, "system.start"))))
                    .containsEntry("previousMasterKeyId", idA).containsEntry("rewrappedKeys", 0);
            assertThat(service.stop()).isIn(0, 143);
        }

        // B alone: everything reads back; the old key file can go (the test keeps an "offline copy").
        byte[] offlineCopyOfA = Files.readAllBytes(a);
        Files.delete(a);
        try (ServiceProcess service = start(b, null)) {
            String token = adminToken(data);
            for (String env : List.of("prod", "staging")) {
                assertThat(envFile(service, token, env)).as(env + " with the new key alone").isEqualTo(served.get(env));
            }
            assertThat(details(last(events(service, token, "system.start")))).doesNotContainKey("previousMasterKeyId");
            assertAuditIntact(service, token, publicKeyPem, checkpointBefore);
            assertThat(awaitFinished(service, token, rotate(service, token, "staging", "LTC_SECRET_KEY"))
                    .getString("status"))
                    .isEqualTo("COMPLETED");
            assertThat(service.stop()).isIn(0, 143);
        }

        // A alone (from its offline copy): refused, naming both ids, and nothing changes.
        Path oldA = writeKeyFile("a-again.key", offlineCopyOfA);
        Map<String, Long> before = sealedUnder();
        try (ServiceProcess service = start(oldA, null, false)) {
            assertThat(service.awaitExit(START_DEADLINE)).as("exit code with the old key alone").isNotZero();
            String log = service.output();
            assertThat(log).contains("refused to start").contains("(id " + idA + ") does not open the keys stored in")
                    .contains("sealed under " + idB);
            assertNoKeyMaterial(log, oldA, b);
            assertThat(log).as("a refusal, not a crash:\n" + log).doesNotContainPattern("(?m)^\\s+at org\\.lifetimecircle\\.");
        }
        assertThat(sealedUnder()).isEqualTo(before);
    }

    @Test
    void aPreviousKeyThatOpensNothingOrIsNotPrivateIsRefused() throws Exception {
        Path a = newKeyFile("a.key");
        Path b = newKeyFile("b.key");
        Path c = newKeyFile("c.key");
        try (ServiceProcess service = start(a, null)) {
            assertThat(service.stop()).isIn(0, 143);
        }
        Map<String, Long> before = sealedUnder();
        assertThat(before).containsOnlyKeys(keyId(a));

        // Neither C (master) nor B (previous) opens data sealed under A.
        assertRefused(c, b, "neither the master key " + c.toAbsolutePath() + " (id " + keyId(c) + ") nor the previous"
                + " master key " + b.toAbsolutePath() + " (id " + keyId(b) + ") opens the stored data",
                "sealed under " + keyId(a));
        // The same key twice is a mistake in the configuration, not a rotation.
        Path aCopy = writeKeyFile("a-copy.key", Files.readAllBytes(a));
        assertRefused(a, aCopy, "holds the same key as", "(id " + keyId(a) + ")");
        // The previous key file gets the master key file's checks.
        Files.setPosixFilePermissions(aCopy, PosixFilePermissions.fromString("rw-r--r--"));
        assertRefused(b, aCopy, "previous master key file " + aCopy.toAbsolutePath() + " has mode 0644", "chmod 0400");
        assertRefused(b, keys.resolve("missing.key"), "previous master key file "
                + keys.resolve("missing.key").toAbsolutePath() + " does not exist", "");
        assertThat(Files.exists(keys.resolve("missing.key"))).as("a previous key is never created").isFalse();
        assertThat(sealedUnder()).as("refused starts change nothing").isEqualTo(before);

        try (ServiceProcess service = start(a, null)) {
            assertThat(events(service, adminToken(data), "masterkey.rewrap")).isEmpty();
        }
    }

    /**
     * Many data keys make the one re-wrap transaction take long enough to kill the service inside it.
     * They are written straight into the database (versions of an environment whose policy was removed,
     * which the service keeps): the API cannot make tens of thousands of versions in a test's time.
     */
    @Test
    void aKillDuringTheRewrapLeavesEverythingUnderOneKeyAndTheNextStartFinishesIt() throws Exception {
        Path a = newKeyFile("a.key");
        Path b = newKeyFile("b.key");
        String idA = keyId(a);
        String idB = keyId(b);
        Map<String, byte[]> served = new TreeMap<>();
        try (ServiceProcess service = start(a, null)) {
            String token = adminToken(data);
            for (String env : List.of("prod", "staging")) {
                grant(service, token, env, "secret:rotate");
                grant(service, token, env, "env-file:read");
                assertThat(awaitFinished(service, token, rotate(service, token, env, "LTC_SECRET_KEY"))
                        .getString("status"))
                        .isEqualTo("COMPLETED");
                served.put(env, envFile(service, token, env));
            }
            assertThat(service.stop()).isIn(0, 143);
        }
        int archived = 40_000;
        insertArchivedVersions(a, archived);
        long total = sealedUnder().get(idA);

        Random random = new Random(RANDOM.nextLong());
        int killedBeforeCommit = 0;
        for (int round = 1; round <= 3; round++) {
            try (ServiceProcess service = start(b, a, false)) {
                awaitLog(service, "master key rotation: re-wrapping");
                // A random point soon after the transaction began (it takes 1 to 6 s for this many keys on the
                // test machine): the choice of the kill point, not a wait for anything.
                LockSupport.parkNanos(Duration.ofMillis(random.nextInt(400)).toNanos());
                service.kill();
                boolean committed = service.output().contains("master key rotation: re-wrapped");
                Map<String, Long> after = sealedUnder();
                System.out.printf("[masterkey-it] kill %d: committed=%s, sealed under %s%n", round, committed, after);
                assertThat(after).as("after the kill everything is under one key").hasSize(1);
                if (after.containsKey(idA)) {
                    assertThat(after).isEqualTo(Map.of(idA, total));
                    assertThat(count("select count(*) from audit_event where action = 'masterkey.rewrap'")).isZero();
                    killedBeforeCommit++;
                } else {
                    assertThat(after).isEqualTo(Map.of(idB, total));
                    assertThat(count("select count(*) from audit_event where action = 'masterkey.rewrap'")).isOne();
                    break;
                }
                assertEveryValueOpens(Map.of(idA, a, idB, b));
            }
        }
        assertThat(killedBeforeCommit).as("at least one kill landed before the re-wrap committed").isPositive();

        try (ServiceProcess service = start(b, a)) {
            String token = adminToken(data);
            Matcher done = Pattern.compile("re-wrapped .* in \\d+ ms").matcher(service.output());
            assertThat(done.find()).as(service.output()).isTrue();
            System.out.printf("[masterkey-it] %s%n", done.group());
            assertThat(sealedUnder()).isEqualTo(Map.of(idB, total));
            assertThat(events(service, token, "masterkey.rewrap")).hasSize(1);
            for (String env : List.of("prod", "staging")) {
                assertThat(envFile(service, token, env)).isEqualTo(served.get(env));
            }
            Response verify = as(service, token).get("/api/v1/audit/verify");
            assertThat(verify.jsonPath().getBoolean("valid")).as(verify.asString()).isTrue();
            assertThat(service.stop()).isIn(0, 143);
        }
        assertEveryValueOpens(Map.of(idB, b));
        try (ServiceProcess service = start(b, null)) {
            String token = adminToken(data);
            for (String env : List.of("prod", "staging")) {
                assertThat(envFile(service, token, env)).isEqualTo(served.get(env));
            }
        }
    }

    // ---- starts --------------------------------------------------------------------------------------

    private ServiceProcess start(Path masterKey, Path previousKey) throws IOException {
        return start(masterKey, previousKey, true);
    }

    private ServiceProcess start(Path masterKey, Path previousKey, boolean awaitHealthy) throws IOException {
        Path log = tmp.resolve("service-" + (++starts) + ".log");
        ServiceProcess.Builder builder = ServiceProcess.dev(tmp, data, policies, fileRoot)
                .property("ltc-secrets.master-key-file", masterKey.toString())
                // The prod setting: a missing master key is an error, never a fresh key.
                .property("ltc-secrets.create-master-key", "false")
                .log(log);
        if (previousKey != null) {
            // As the systemd drop-in of the runbook sets it.
            builder.env("LTC_SECRETS_PREVIOUS_MASTER_KEY_FILE", previousKey.toString());
        }
        ServiceProcess service = builder.start();
        if (awaitHealthy) {
            try {
                Duration ready = service.awaitHealthy(START_DEADLINE);
                System.out.printf("[masterkey-it] start %d healthy in %d ms%n", starts, ready.toMillis());
            } catch (AssertionError e) {
                service.close();
                throw e;
            }
        }
        return service;
    }

    private void assertRefused(Path masterKey, Path previousKey, String expected, String alsoExpected)
            throws IOException {
        try (ServiceProcess service = start(masterKey, previousKey, false)) {
            assertThat(service.awaitExit(START_DEADLINE)).as("exit code").isNotZero();
            String log = service.output();
            assertThat(log).as(log).contains("refused to start").contains(expected).contains(alsoExpected);
            assertThat(log).as("a refusal, not a crash:\n" + log).doesNotContainPattern("(?m)^\\s+at org\\.lifetimecircle\\.");
            assertNoKeyMaterial(log, masterKey, previousKey);
        }
    }

    private static void awaitLog(ServiceProcess service, String text) {
        Poll.atMost(LOG_DEADLINE).untilAsserted(() -> assertThat(service.output()).contains(text));
    }

    // ---- keys ----------------------------------------------------------------------------------------

    /** A key file as {@code openssl rand -base64 32 > f && chmod 0400 f} makes it. */
    private Path newKeyFile(String name) throws IOException {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return writeKeyFile(name, (Base64.getEncoder().encodeToString(key) + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private Path writeKeyFile(String name, byte[] content) throws IOException {
        Path file = keys.resolve(name);
        Files.write(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        return file;
    }

    private static String keyId(Path file) {
        try (MasterKey key = MasterKeyLoader.load(file, false)) {
            return key.keyId();
        }
    }

    private static void assertNoKeyMaterial(String log, Path... keyFiles) throws IOException {
        for (Path f : keyFiles) {
            if (f != null && Files.exists(f)) {
                String key = Files.readString(f, StandardCharsets.US_ASCII).trim();
                assertThat(log).as("no key material in the log").doesNotContain(key);
            }
        }
    }

    // ---- the database, read directly ---------------------------------------------------------------

    private Connection db() throws SQLException {
        return ServiceProcess.database(data);
    }

    /** Master key id to how many installation keys and secret versions are sealed under it. */
    private Map<String, Long> sealedUnder() throws SQLException {
        Map<String, Long> byKey = new TreeMap<>();
        try (Connection c = db()) {
            try (ResultSet rs = c.createStatement().executeQuery("select sealed from installation_key")) {
                while (rs.next()) {
                    byKey.merge(KeyIds.ofSealedKey(rs.getBytes(1)), 1L, Long::sum);
                }
            }
            try (ResultSet rs = c.createStatement().executeQuery(
                    "select ciphertext from secret_version where ciphertext is not null")) {
                while (rs.next()) {
                    byKey.merge(KeyIds.ofEnvelope(rs.getBytes(1)), 1L, Long::sum);
                }
            }
        }
        return byKey;
    }

    private long count(String sql) throws SQLException {
        try (Connection c = db(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Every stored value decrypts with the key its blob names (the keys by id). */
    private void assertEveryValueOpens(Map<String, Path> keyFiles) throws Exception {
        Map<String, MasterKey> loaded = new TreeMap<>();
        try (Connection c = db(); ResultSet rs = c.createStatement().executeQuery(
                "select environment, secret, version, ciphertext from secret_version where ciphertext is not null")) {
            for (Map.Entry<String, Path> e : keyFiles.entrySet()) {
                loaded.put(e.getKey(), MasterKeyLoader.load(e.getValue(), false));
            }
            long opened = 0;
            while (rs.next()) {
                byte[] blob = rs.getBytes(4);
                MasterKey key = loaded.get(KeyIds.ofEnvelope(blob));
                assertThat(key).as("a key for every blob").isNotNull();
                try (SecretValue v = Envelope.decrypt(key, blob,
                        new Envelope.Binding(rs.getString(1), rs.getString(2), rs.getLong(3)))) {
                    opened++;
                }
            }
            assertThat(opened).isPositive();
        } finally {
            loaded.values().forEach(MasterKey::close);
        }
    }

    /** CURRENT versions of secrets of an environment without a policy, as a long-lived installation has. */
    private void insertArchivedVersions(Path keyFile, int n) throws Exception {
        try (MasterKey key = MasterKeyLoader.load(keyFile, false); Connection c = db()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("insert into secret_version (environment, secret, version,"
                    + " state, ciphertext, fingerprint, rotation_id, created_at, promoted_at) values"
                    + " ('archived', ?, 1, 'CURRENT', ?, 'hmac-sha256:00', 'archived00000000', 0, 0)")) {
                for (int i = 0; i < n; i++) {
                    String name = "ARCHIVED_" + i;
                    try (SecretValue value = SecretValue.of("archived-value-" + i + "-0123456789abcdefghijklmnop")) {
                        ps.setString(1, name);
                        ps.setBytes(2, Envelope.encrypt(key, value, new Envelope.Binding("archived", name, 1)));
                    }
                    ps.addBatch();
                    if (i % 1000 == 999) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            c.commit();
        }
    }

    // ---- API -----------------------------------------------------------------------------------------

    private static byte[] envFile(ServiceProcess service, String token, String env) throws IOException, InterruptedException {
        Response r = as(service, token).get("/api/v1/environments/" + env + "/env-file");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r.asByteArray();
    }

    private static String secretOf(byte[] envFile) {
        String text = new String(envFile, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^LTC_SECRET_KEY=(\\S+)$").matcher(text);
        assertThat(m.find()).as(text).isTrue();
        return m.group(1);
    }

    private static List<Map<String, Object>> events(ServiceProcess service, String token, String action)
            throws IOException, InterruptedException {
        Response r = as(service, token).get("/api/v1/audit/events?action=" + action + "&limit=1000");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r.jsonPath().getList("");
    }

    private static Map<String, Object> last(List<Map<String, Object>> events) {
        assertThat(events).isNotEmpty();
        return events.get(events.size() - 1);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> details(Map<String, Object> event) {
        return (Map<String, Object>) event.get("details");
    }

    private static JsonPath checkpoint(ServiceProcess service, String token) throws IOException, InterruptedException {
        Response r = as(service, token).get("/api/v1/audit/checkpoint");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r.jsonPath();
    }

    /** The chain verifies, and a fresh checkpoint and the one from before the rotation verify with the same key. */
    private static void assertAuditIntact(ServiceProcess service, String token, String publicKeyPem, JsonPath before)
            throws Exception {
        Response verify = as(service, token).get("/api/v1/audit/verify");
        assertThat(verify.statusCode()).isEqualTo(200);
        assertThat(verify.jsonPath().getBoolean("valid")).as(verify.asString()).isTrue();
        JsonPath now = checkpoint(service, token);
        assertThat(now.getString("publicKeyPem")).as("the signing key survives the rotation").isEqualTo(publicKeyPem);
        assertThat(now.getLong("seq")).isGreaterThan(before.getLong("seq"));
        for (JsonPath cp : new ArrayList<>(List.of(before, now))) {
            assertThat(verifies(publicKeyPem, cp.getString("message"), cp.getString("signature")))
                    .as("checkpoint seq " + cp.getLong("seq") + " verifies").isTrue();
        }
    }

    private static boolean verifies(String publicKeyPem, String message, String signatureBase64) throws Exception {
        String base64 = publicKeyPem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(
                Base64.getDecoder().decode(base64)));
        Signature signature = Signature.getInstance("Ed25519");
        signature.initVerify(key);
        signature.update(message.getBytes(StandardCharsets.UTF_8));
        return signature.verify(Base64.getDecoder().decode(signatureBase64));
    }
}
