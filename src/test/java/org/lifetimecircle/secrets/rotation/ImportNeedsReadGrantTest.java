package org.lifetimecircle.secrets.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Security review (issue 18): secret:rotate included IMPORT, so a security engineer could choose, and
 * so know, the key its role ceiling deliberately keeps it from reading. An import needs secret:rotate
 * AND an active env-file:read grant on the environment.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ImportNeedsReadGrantTest {

    private static final String ENV = "staging";
    private static final String IMPORT = "/api/v1/environments/" + ENV + "/secrets/LTC_SECRET_KEY/import";

    private static String principal(String role, String env, String... permissions) {
        return named(Api.uniqueName(role), role, env, permissions);
    }

    private static String named(String name, String role, String env, String... permissions) {
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", role))
                .post("/api/v1/principals").then().statusCode(201);
        String token = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        for (String permission : permissions) {
            grant(name, env, permission);
        }
        return token;
    }

    private static void grant(String principal, String env, String permission) {
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", principal, "environment", env,
                        "permission", permission, "ttl", "PT2H", "reason", "import access test"))
                .post("/api/v1/grants").then().statusCode(201);
    }

    private static String value() {
        byte[] random = new byte[48];
        new SecureRandom().nextBytes(random);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    private static void refused(String token) throws Exception {
        Rotations.awaitIdle(adminToken(), ENV);
        long rotations = Db.queryLong("select count(*) from rotation");
        String requestId = "import-refused-" + System.nanoTime();
        String body = as(token).header("X-Request-Id", requestId).contentType(ContentType.JSON)
                .body(Map.of("value", value(), "reason", "choose the key"))
                .post(IMPORT).then().statusCode(403).contentType("application/problem+json")
                .body("code", equalTo("forbidden")).extract().asString();
        assertThat(body).contains("env-file:read");
        assertThat(Db.queryLong("select count(*) from rotation")).isEqualTo(rotations);
        List<Map<String, Object>> events = Db.eventsOf(requestId);
        assertThat(events).hasSize(1);
        assertThat(events.get(0)).containsEntry("action", "auth.denied").containsEntry("outcome", "DENIED");
    }

    @Test
    void aSecurityEngineerWithARotateGrantCannotChooseTheKey() throws Exception {
        refused(principal("security-engineer", ENV, "secret:rotate"));
    }

    @Test
    void anAdminWithOnlyARotateGrantCannotImport() throws Exception {
        refused(principal("admin", ENV, "secret:rotate"));
    }

    @Test
    void aReadGrantOnAnotherEnvironmentDoesNotCount() throws Exception {
        String name = Api.uniqueName("admin");
        String token = named(name, "admin", ENV, "secret:rotate");
        grant(name, "prod", "env-file:read");
        refused(token);
    }

    @Test
    void anAdminWithRotateAndReadGrantsImports() {
        String token = principal("admin", ENV, "secret:rotate", "env-file:read");
        Rotations.awaitIdle(token, ENV);
        String value = value();
        String id = as(token).contentType(ContentType.JSON).body(Map.of("value", value, "reason", "go-live"))
                .post(IMPORT).then().statusCode(202).body("kind", equalTo("IMPORT")).extract().path("id");
        assertThat(Rotations.awaitFinished(token, id).getString("status")).isEqualTo("COMPLETED");
        assertThat(as(token).get("/api/v1/environments/" + ENV + "/env-file").then().statusCode(200).extract()
                .asString()).contains("LTC_SECRET_KEY=" + value + "\n");
    }
}
