package org.lifetimecircle.secrets.access;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class AuthenticationTest {

    @Test
    void missingTokenIsUnauthorizedWithBearerChallenge() {
        given().get("/api/v1/environments").then()
                .statusCode(401)
                .contentType("application/problem+json")
                .header("WWW-Authenticate", startsWith("Bearer"))
                .body("code", equalTo("unauthorized"))
                .body("status", equalTo(401));
    }

    @Test
    void malformedTokenIsUnauthorized() {
        as("not-a-token").get("/api/v1/environments").then().statusCode(401).body("code", equalTo("unauthorized"));
        given().header("Authorization", "Basic YWRtaW46YWRtaW4=").get("/api/v1/environments").then().statusCode(401);
        given().header("Authorization", "Bearer ").get("/api/v1/environments").then().statusCode(401);
    }

    @Test
    void unknownWellFormedTokenIsUnauthorized() {
        as("ltcs_0123456789abcdef_" + "A".repeat(43)).get("/api/v1/environments").then().statusCode(401);
    }

    @Test
    void tokenWithRightIdButWrongSecretIsUnauthorized() {
        String token = Api.tokenFor("auditor");
        String tampered = token.substring(0, token.length() - 1) + (token.endsWith("A") ? "B" : "A");
        as(token).get("/api/v1/environments").then().statusCode(200);
        as(tampered).get("/api/v1/environments").then().statusCode(401);
    }

    @Test
    void schemeIsCaseInsensitive() {
        given().header("Authorization", "bearer " + adminToken()).get("/api/v1/environments").then().statusCode(200);
    }

    @Test
    void expiredTokenIsUnauthorized() {
        String name = Api.uniqueName("expiring");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "auditor"))
                .post("/api/v1/principals").then().statusCode(201);
        String token = as(adminToken()).contentType(ContentType.JSON).body(Map.of("ttl", "PT5S"))
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201)
                .extract().path("token");
        as(token).get("/api/v1/environments").then().statusCode(200);

        TestClock.advance(Duration.ofSeconds(6));

        as(token).get("/api/v1/environments").then().statusCode(401).body("code", equalTo("unauthorized"));
    }

    @Test
    void revokedTokenFailsOnTheVeryNextRequest() {
        String name = Api.uniqueName("revoked");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "deployer"))
                .post("/api/v1/principals").then().statusCode(201);
        var issued = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract();
        String token = issued.path("token");
        String id = issued.path("id");
        as(token).get("/api/v1/environments").then().statusCode(200);

        as(adminToken()).delete("/api/v1/tokens/" + id).then().statusCode(204);

        as(token).get("/api/v1/environments").then().statusCode(401);
        // Revoking again is harmless.
        as(adminToken()).delete("/api/v1/tokens/" + id).then().statusCode(204);
    }

    @Test
    void unauthorizedResponsesCarryARequestId() {
        given().header("X-Request-Id", "probe-42").get("/api/v1/principals").then()
                .statusCode(401)
                .header("X-Request-Id", equalTo("probe-42"))
                .body("requestId", equalTo("probe-42"));
    }
}
