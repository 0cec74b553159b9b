package org.lifetimecircle.secrets.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The plain SHA-256 of an env file lets anyone who sees it confirm a guessed low-entropy value offline,
 * and auditors and security engineers may not read the file. So only the fetch itself (its ETag, to a
 * principal allowed to read the body) carries it: audit events, the write response, the environment
 * view, rotation records and the stored write and drift records carry the keyed {@code hmac-sha256:}
 * fingerprint.
 */
@QuarkusTest
@TestProfile(EnvFileFingerprintTest.Isolated.class)
@WithTestResource(TestDataDir.class)
class EnvFileFingerprintTest {

    /** Its own application: the whole audit trail and database are scanned. */
    public static class Isolated implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("ltc-secrets.audit.retention", "P3651D");
        }
    }

    private static final String FINGERPRINT = "hmac-sha256:[0-9a-f]{64}";

    @Inject
    Housekeeping scheduler;

    @Test
    void noAuditEventMetadataResponseOrStoredRecordHoldsThePlainSha256OfTheEnvFile() throws Exception {
        String admin = adminToken();
        String env = "drift-flag";
        for (String permission : new String[] {"env-file:read", "env-file:write", "secret:rotate"}) {
            as(admin).contentType(ContentType.JSON).body(Map.of("principal", "bootstrap-admin", "environment", env,
                    "permission", permission, "ttl", "PT1H", "reason", "fingerprint test"))
                    .post("/api/v1/grants").then().statusCode(201);
        }
        assertThat(Rotations.rotateAndWait(admin, env, "LTC_SECRET_KEY").getString("status")).isEqualTo("COMPLETED");

        // The reader's own fetch: its ETag is the plain hash of the body it is allowed to read.
        var fetched = as(admin).get("/api/v1/environments/" + env + "/env-file").then().statusCode(200).extract();
        String sha = sha256(fetched.asByteArray());
        assertThat(fetched.header("ETag")).isEqualTo("\"" + sha + "\"");
        assertThat(fetched.header("Content-Length")).isEqualTo(String.valueOf(fetched.asByteArray().length));
        assertThat(fetched.header("Cache-Control")).isEqualTo("no-store");

        JsonPath written = as(admin).post("/api/v1/environments/" + env + "/env-file/write").then().statusCode(200)
                .extract().jsonPath();
        assertThat(written.getString("sha256")).isNull();
        assertThat(written.getString("fingerprint")).matches(FINGERPRINT);
        assertThat(written.prettify()).doesNotContain(sha);

        JsonPath view = as(admin).get("/api/v1/environments/" + env).then().statusCode(200).extract().jsonPath();
        assertThat(view.getString("envFile.sha256")).isNull();
        assertThat(view.getString("envFile.fingerprint")).isEqualTo(written.getString("fingerprint"));
        assertThat(view.prettify()).doesNotContain(sha);
        assertThat(as(admin).queryParam("environment", env).get("/api/v1/rotations").then().statusCode(200)
                .extract().asString()).doesNotContain(sha);

        // Drift: the record of what is on disk now, and the event about it.
        Path file = TestDataDir.fileRoot().resolve("etc/lifetimecircle/" + env + ".env");
        assertThat(sha256(Files.readAllBytes(file))).isEqualTo(sha);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        scheduler.run(TestClock.now());
        assertThat(as(admin).get("/api/v1/environments/" + env).then().statusCode(200).extract().jsonPath()
                .getString("envFile.drift")).contains("has mode 0644");
        String stored = storedRecord(env);
        assertThat(stored).contains("hmac-sha256:").doesNotContain(sha);

        String trail = as(admin).queryParam("format", "jsonl").get("/api/v1/audit/export").then().statusCode(200)
                .extract().asString();
        assertThat(trail).contains("\"action\":\"envfile.read\"", "\"action\":\"envfile.write\"",
                "\"action\":\"envfile.drift\"", "\"action\":\"rotation.complete\"").doesNotContain(sha);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    /** Every column of the environment's write and drift record, as one string. */
    private static String storedRecord(String env) throws Exception {
        StringBuilder out = new StringBuilder();
        try (Connection c = Db.open(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select * from env_file_state where environment = '" + env + "'")) {
            assertThat(rs.next()).isTrue();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                out.append(rs.getMetaData().getColumnName(i)).append('=').append(rs.getString(i)).append('\n');
            }
        }
        return out.toString();
    }

    private static String sha256(byte[] content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }
}
