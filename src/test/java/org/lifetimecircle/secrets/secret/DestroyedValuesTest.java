package org.lifetimecircle.secrets.secret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * A RETIRED or REVOKED version's ciphertext is gone from the bytes on disk, not only from the row: the
 * database, its WAL and its shared-memory file are scanned for every ciphertext the versions had before
 * an emergency ended them. Without {@code secure_delete} and a WAL truncation the freed cells and the old
 * WAL frames still hold them.
 */
@QuarkusTest
@TestProfile(DestroyedValuesTest.Isolated.class)
@WithTestResource(TestDataDir.class)
class DestroyedValuesTest {

    /** Its own application and database: an emergency cuts off other principals, and the scan wants no noise. */
    public static class Isolated implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("ltc-secrets.audit.retention", "P3650D");
        }
    }

    private static final String ENV = "staging";

    @Test
    void ciphertextsOfRetiredAndRevokedVersionsAreNotLeftInTheDatabaseFiles() throws Exception {
        // SQLite's guarantee: its files are ours to scrub. A PostgreSQL server keeps dead row versions and WAL
        // (and any archive of it) on its own terms; docs/postgresql.md says what that means.
        org.junit.jupiter.api.Assumptions.assumeFalse(Db.postgresql(), "SQLite's files only");
        String admin = adminToken();
        as(admin).contentType(ContentType.JSON).body(Map.of("principal", "bootstrap-admin", "environment", ENV,
                "permission", "secret:rotate", "ttl", "PT1H", "reason", "destroyed values test"))
                .post("/api/v1/grants").then().statusCode(201);
        Map<Long, byte[]> seen = new LinkedHashMap<>(ciphertexts());
        // v1 RETIRED by the second rotation (one PREVIOUS at a time), v2 PREVIOUS, v3 CURRENT.
        assertThat(Rotations.rotateAndWait(admin, ENV, "LTC_SECRET_KEY").getString("status")).isEqualTo("COMPLETED");
        seen.putAll(ciphertexts());
        assertThat(Rotations.rotateAndWait(admin, ENV, "LTC_SECRET_KEY").getString("status")).isEqualTo("COMPLETED");
        seen.putAll(ciphertexts());
        assertThat(seen).containsKeys(1L, 2L, 3L);

        Rotations.awaitIdle(admin, ENV);
        String id = as(admin).contentType(ContentType.JSON).body(Map.of("reason", "key leaked", "incident", "INC-1"))
                .post("/api/v1/environments/" + ENV + "/emergency-rotations").then().statusCode(202)
                .extract().path("id");
        assertThat(Rotations.awaitFinished(admin, id).getString("status")).isEqualTo("COMPLETED");

        Map<Long, byte[]> after = ciphertexts();
        assertThat(after).containsOnlyKeys(4L); // every older version ended, its ciphertext nulled in the row
        byte[] files = rawFiles();
        for (Map.Entry<Long, byte[]> v : seen.entrySet()) {
            assertThat(contains(files, v.getValue())).as("ciphertext of version " + v.getKey() + " on disk")
                    .isFalse();
        }
        // The scan can see a ciphertext at all: the live one is found (in the db file or the WAL).
        assertThat(contains(files, after.get(4L))).as("the CURRENT ciphertext is found by the same scan").isTrue();
    }

    /** Version to ciphertext of the environment's versions that still have one. */
    private static Map<Long, byte[]> ciphertexts() throws Exception {
        Map<Long, byte[]> out = new LinkedHashMap<>();
        try (Connection c = Db.open(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select version, ciphertext from secret_version where environment = '"
                     + ENV + "' and ciphertext is not null")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getBytes(2));
            }
        }
        return out;
    }

    /** The database, WAL and shared-memory files as they are on disk, one after the other. */
    private static byte[] rawFiles() throws Exception {
        Path dir = TestDataDir.dataDir();
        byte[] all = new byte[0];
        for (String name : new String[] {"ltc-secrets.db", "ltc-secrets.db-wal", "ltc-secrets.db-shm"}) {
            Path f = dir.resolve(name);
            if (Files.exists(f)) {
                byte[] b = Files.readAllBytes(f);
                byte[] joined = Arrays.copyOf(all, all.length + b.length + 1);
                System.arraycopy(b, 0, joined, all.length + 1, b.length);
                all = joined;
            }
        }
        return all;
    }

    /**
     * Whether any 16-byte piece of the ciphertext's random part occurs in {@code haystack}, so a partly
     * overwritten blob counts as still there. The random part starts after the format byte and the
     * sealed key's header (format, id length, master key id), which every version shares.
     */
    private static boolean contains(byte[] haystack, byte[] ciphertext) {
        assertThat(ciphertext.length).as(HexFormat.of().formatHex(ciphertext)).isGreaterThan(100);
        int randomFrom = 3 + (ciphertext[2] & 0xff);
        for (int s = randomFrom; s + 16 <= ciphertext.length; s += 8) {
            if (indexOf(haystack, Arrays.copyOfRange(ciphertext, s, s + 16)) >= 0) {
                return true;
            }
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
