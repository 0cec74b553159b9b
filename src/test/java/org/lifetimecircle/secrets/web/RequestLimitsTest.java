package org.lifetimecircle.secrets.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The HTTP layer lets through every request line our own validation could accept (a 500-character
 * reason of 3-byte characters is about 4.5 KB percent-encoded), so an over-long parameter gets our
 * 400 problem, not the HTTP layer's bare 414. Only far beyond that (over 16 KiB) does the HTTP layer
 * refuse on its own.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class RequestLimitsTest {

    private static String principal() {
        String name = Api.uniqueName("limits");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "auditor"))
                .post("/api/v1/principals").then().statusCode(201);
        return name;
    }

    @Test
    void theLongestValidReasonInAQueryParameterIsServed() {
        String reason = "€".repeat(Reason.MAX_LENGTH); // 500 characters, 4,500 bytes percent-encoded
        as(adminToken()).queryParam("reason", reason).delete("/api/v1/principals/" + principal()).then().statusCode(204);
    }

    @Test
    void anOverLongReasonIsOurProblemNotA414() {
        String victim = principal();
        as(adminToken()).queryParam("reason", "x".repeat(5000)).delete("/api/v1/principals/" + victim).then()
                .statusCode(400).contentType("application/problem+json").body("code", equalTo("invalid-request"));
        as(adminToken()).get("/api/v1/principals/" + victim).then().body("enabled", equalTo(true));
    }

    @Test
    void anOverLongPathParameterIsOurProblemToo() {
        as(adminToken()).get("/api/v1/principals/" + "a".repeat(6000)).then()
                .statusCode(400).contentType("application/problem+json").body("code", equalTo("invalid-request"));
    }

    @Test
    void beyondSixteenKibTheHttpLayerRefuses() {
        int status = as(adminToken()).queryParam("reason", "x".repeat(17 * 1024))
                .delete("/api/v1/principals/" + principal()).then().extract().statusCode();
        assertThat(status).isEqualTo(414);
    }

    @Test
    void headersOverTwentyKibAreRefusedByTheHttpLayer() {
        int status = as(adminToken()).header("X-Padding", "x".repeat(21 * 1024)).get("/api/v1/environments").then()
                .extract().statusCode();
        assertThat(status).isEqualTo(431);
    }
}
