package org.lifetimecircle.secrets.environment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.TestDataDir;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class EnvironmentEndpointsTest {

    @Test
    void listsOneEnvironmentPerPolicy() {
        as(adminToken()).get("/api/v1/environments").then()
                .statusCode(200)
                .body("name", contains("approved", "approved-due", "apptest", "drift-emergency", "drift-flag", "drift-repair", "due-emergency",
                        "due-flag", "due-rotate", "preflight", "preflight-bad", "preflight-min", "prod", "staging"))
                .body("[12].envFilePath", equalTo("/etc/lifetimecircle/prod.env"))
                .body("[10].secrets", contains("LTC_SECRET_KEY"));
    }

    @Test
    void detailShowsVariableNamesButNeverValues() {
        String body = as(adminToken()).get("/api/v1/environments/prod").then()
                .statusCode(200)
                .body("name", equalTo("prod"))
                .body("variables", contains("CANARY_STATIC", "LTC_DATABASE_URL", "LTC_DB_PATH", "LTC_ENV"))
                .body("secrets[0].name", equalTo("LTC_SECRET_KEY"))
                .body("secrets[0].currentVersion", notNullValue())
                .body("secrets[0].status", equalTo("OK"))
                .body("envFile.sha256", nullValue())
                .body("envFile.fingerprint", matchesPattern("hmac-sha256:[0-9a-f]{64}"))
                .body("envFile.lastWrittenAt", notNullValue())
                .body("envFile.conflict", equalTo(false))
                .body("envFile.path", equalTo("/etc/lifetimecircle/prod.env"))
                .body("envFile.mode", equalTo("0600"))
                .extract().asString();
        assertThat(body).doesNotContain("static-canary-value-7f3a").doesNotContain("sqlite+pysqlite");
    }
}
