package org.lifetimecircle.secrets.web;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.TestDataDir;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class OpsTest {

    @Test
    void healthIsUpWithoutAToken() {
        given().get("/health").then()
                .statusCode(200)
                .body("status", equalTo("UP"))
                // A lone instance is active, on SQLite always, on PostgreSQL because nobody else holds the lock.
                .body("role", equalTo("active"))
                .body("checks.database", equalTo("UP"))
                .body("checks.master-key", equalTo("UP"))
                .body("checks.policies", equalTo("UP"));
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/health/live").then().statusCode(200);
    }

    @Test
    void metricsAndOpenApiAreServed() {
        given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_"))
                // The contract's per-secret gauges, one per environment and secret.
                .body(containsString("ltc_secret_overdue{environment=\"prod\",secret=\"LTC_SECRET_KEY\"} 0.0"))
                .body(containsString("ltc_secret_due_soon{environment=\"staging\",secret=\"LTC_SECRET_KEY\"}"))
                .body(matchesPattern("(?s).*ltc_secret_age_seconds\\{environment=\"prod\",secret=\"LTC_SECRET_KEY\"\\} [0-9.E]+\n.*"));
        given().get("/q/openapi?format=json").then().statusCode(200)
                .body(containsString("/api/v1/principals"))
                .body(containsString("bearer"));
    }

    @Test
    void everyResponseCarriesARequestId() {
        given().get("/health").then().header("X-Request-Id", matchesPattern("[0-9a-f]{32}"));
        given().get("/q/metrics").then().header("X-Request-Id", matchesPattern("[0-9a-f]{32}"));
        given().header("X-Request-Id", "deploy-7.abc").get("/health").then().header("X-Request-Id", equalTo("deploy-7.abc"));
    }

    @Test
    void anUnsafeRequestIdIsReplaced() {
        String echoed = given().header("X-Request-Id", "x\" injected=1 " + "y".repeat(200)).get("/health").then()
                .extract().header("X-Request-Id");
        assertThat(echoed).matches("[0-9a-f]{32}");
    }
}
