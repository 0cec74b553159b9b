package org.lifetimecircle.secrets.web;

import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The JSON literal {@code null} is a body, and not one any endpoint takes: it is refused, not read
 * as "no body" (which some endpoints allow and answer with defaults).
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class NullBodyTest {

    @ParameterizedTest
    @ValueSource(strings = {"null", " null\n", "\tnull "})
    void aNullTokenRequestIsRefusedAndIssuesNothing(String body) {
        String name = Api.uniqueName("null-body");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "auditor"))
                .post("/api/v1/principals").then().statusCode(201);
        as(adminToken()).contentType(ContentType.JSON).body(body)
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(400)
                .contentType("application/problem+json").body("code", equalTo("invalid-request"));
        as(adminToken()).get("/api/v1/principals/" + name + "/tokens").then().statusCode(200).body("$", hasSize(0));
        // No body at all is still "defaults", as before.
        as(adminToken()).post("/api/v1/principals/" + name + "/tokens").then().statusCode(201);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/api/v1/principals",
        "/api/v1/grants",
        "/api/v1/environments/staging/secrets/LTC_SECRET_KEY/rotations",
        "/api/v1/environments/staging/secrets/LTC_SECRET_KEY/rollback",
        "/api/v1/environments/staging/secrets/LTC_SECRET_KEY/import",
        "/api/v1/environments/staging/emergency-rotations",
        "/api/v1/audit/archive",
    })
    void everyOtherBodyEndpointRefusesNullToo(String path) {
        if (path.contains("/environments/")) { // past the grant check, to where the body is read
            for (String permission : new String[] {"secret:rotate", "env-file:read"}) {
                as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", "bootstrap-admin",
                        "environment", "staging", "permission", permission, "ttl", "PT1H", "reason", "null body test"))
                        .post("/api/v1/grants").then().statusCode(201);
            }
        }
        as(adminToken()).contentType(ContentType.JSON).body("null").post(path).then().statusCode(400)
                .contentType("application/problem+json").body("code", equalTo("invalid-request"));
    }

    @Test
    void nullInsideAnObjectIsStillAField() {
        String name = Api.uniqueName("null-ttl");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "auditor"))
                .post("/api/v1/principals").then().statusCode(201);
        as(adminToken()).contentType(ContentType.JSON).body("{\"ttl\": null}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201);
    }
}
