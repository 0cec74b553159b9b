package org.lifetimecircle.secrets.restorehold;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Issue 17: a restored database may name a revoked key CURRENT. restore.sh leaves the hold marker; while it
 * is there no env file is written (rotations and env-file/write: 409, the file on disk untouched) until an
 * admin releases it, audited. Only the admin role may release (a security engineer, who may rotate, may not).
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class EnvFileHoldTest {

    private static final String ENV = "staging";

    private static Path marker() {
        return TestDataDir.dataDir().resolve(EnvFileHold.MARKER);
    }

    @AfterEach
    void noHoldLeftForOtherTests() throws IOException {
        Files.deleteIfExists(marker());
    }

    @Test
    void restoredServiceWritesNoEnvFileUntilAnAdminReleasesTheHold() throws IOException {
        String admin = adminToken();
        for (String permission : List.of("env-file:write", "secret:rotate", "env-file:read")) {
            as(admin).contentType("application/json").body(Map.of("principal", "bootstrap-admin", "environment", ENV,
                    "permission", permission, "ttl", "PT10M", "reason", "hold test"))
                    .post("/api/v1/grants").then().statusCode(201);
        }
        Rotations.awaitIdle(admin, ENV);
        Path envFile = TestDataDir.fileRoot().resolve("etc/lifetimecircle/" + ENV + ".env");
        as(admin).post("/api/v1/environments/" + ENV + "/env-file/write").then().statusCode(200);
        byte[] before = Files.readAllBytes(envFile);

        // As restore.sh leaves it.
        Files.writeString(marker(), "{\"restoredAt\":\"2026-12-04T10:00:00Z\",\"backupCreatedAt\":\"2026-12-01T02:00:00Z\","
                + "\"backupHeadSeq\":41,\"note\":\"<script>\"}\n");

        as(admin).post("/api/v1/environments/" + ENV + "/env-file/write").then().statusCode(409)
                .body("code", equalTo("conflict"))
                .body("detail", containsString("held after a restore of a backup taken 2026-12-01T02:00:00Z"))
                .body("detail", containsString("/api/v1/admin/env-file-hold/release"));
        as(admin).contentType("application/json").body(Map.of("reason", "hold test"))
                .post("/api/v1/environments/" + ENV + "/secrets/LTC_SECRET_KEY/rotations").then().statusCode(409)
                .body("detail", containsString("held after a restore"));
        // Nor is the file served: its values may have been revoked after the backup.
        as(admin).get("/api/v1/environments/" + ENV + "/env-file").then().statusCode(409)
                .body("detail", containsString("held after a restore"));
        assertThat(Files.readAllBytes(envFile)).as("the env file is untouched while held").isEqualTo(before);

        // The one write that may go ahead: an emergency, whose values are all new (the fix for a leak the
        // backup predates must not wait for the release that would first write the leaked key back).
        String emergency = as(admin).contentType("application/json").body(Map.of("reason", "hold test", "incident", "HOLD-1"))
                .post("/api/v1/environments/" + ENV + "/emergency-rotations").then().statusCode(202)
                .extract().path("id");
        assertThat(Rotations.awaitFinished(admin, emergency).getString("status")).isEqualTo("COMPLETED");
        assertThat(Files.readAllBytes(envFile)).as("the emergency wrote fresh values while held").isNotEqualTo(before);
        assertThat(marker()).as("the hold stays until an admin releases it").exists();

        // Refused: a security engineer (may rotate, is not an admin), no token, no reason.
        String engineer = Api.tokenFor("security-engineer");
        as(engineer).contentType("application/json").body(Map.of("reason", "let me"))
                .post("/api/v1/admin/env-file-hold/release").then().statusCode(403).body("code", equalTo("forbidden"));
        io.restassured.RestAssured.given().contentType("application/json").body(Map.of("reason", "anyone"))
                .post("/api/v1/admin/env-file-hold/release").then().statusCode(401);
        as(admin).contentType("application/json").body(Map.of("reason", " "))
                .post("/api/v1/admin/env-file-hold/release").then().statusCode(400);
        assertThat(marker()).as("a refused release leaves the hold").exists();

        // Allowed: the admin, with a reason.
        JsonPath released = as(admin).contentType("application/json")
                .body(Map.of("reason", "emergencies since the backup repeated"))
                .post("/api/v1/admin/env-file-hold/release").then().statusCode(200).extract().jsonPath();
        assertThat(released.getBoolean("wasHeld")).isTrue();
        assertThat(released.getString("hold.backupHeadSeq")).isEqualTo("41");
        assertThat(released.getMap("hold")).doesNotContainKey("note");
        assertThat(released.getList("environmentsSynced", String.class)).contains(ENV);
        assertThat(marker()).doesNotExist();

        List<Map<String, Object>> events = as(admin).queryParam("action", "envfile.hold.release").queryParam("limit", 1000)
                .get("/api/v1/audit/events").then().statusCode(200).extract().jsonPath().getList("$");
        assertThat(events).anySatisfy(e -> {
            assertThat(e.get("actor")).isEqualTo("bootstrap-admin");
            assertThat(e.get("outcome")).isEqualTo("SUCCESS");
            @SuppressWarnings("unchecked")
            Map<String, Object> d = (Map<String, Object>) e.get("details");
            assertThat(d).containsEntry("reason", "emergencies since the backup repeated").containsEntry("wasHeld", true)
                    .containsEntry("backupCreatedAt", "2026-12-01T02:00:00Z");
        });

        // Writes go ahead again; a second release changes nothing.
        as(admin).post("/api/v1/environments/" + ENV + "/env-file/write").then().statusCode(200);
        Rotations.rotateAndWait(admin, ENV, "LTC_SECRET_KEY");
        as(admin).contentType("application/json").body(Map.of("reason", "again"))
                .post("/api/v1/admin/env-file-hold/release").then().statusCode(200).body("wasHeld", equalTo(false));
    }
}
