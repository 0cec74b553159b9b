package org.lifetimecircle.secrets.health;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.ClassNames;
import org.lifetimecircle.secrets.testing.ImmutableDatabase;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * A service whose database refuses writes cannot write its audit trail, so it serves nothing: /health
 * says DOWN with the reason while "select 1" still answers, and UP again once writes work, without a
 * restart.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class DatabaseWritesHealthTest {

    @Test
    void healthIsDownWhileWritesAreRefusedAndUpAgainAfterwards() throws Exception {
        given().get("/health").then().statusCode(200);

        JsonPath down;
        JsonPath ready;
        ImmutableDatabase.set(true);
        try {
            // A probe answer is reused for up to a second (a /health flood must not become a flood of commits).
            Response r = Poll.until("/health DOWN with writes refused", Duration.ofSeconds(10),
                    () -> given().get("/health"), h -> h.statusCode() != 200, Response::asString);
            down = r.jsonPath();
            assertThat(r.statusCode()).as(r.asString()).isEqualTo(503);
            ready = given().get("/q/health/ready").then().statusCode(503).extract().jsonPath();
        } finally {
            ImmutableDatabase.set(false);
        }
        assertThat(down.getString("status")).isEqualTo("DOWN");
        assertThat(down.getString("checks.database")).isEqualTo("UP"); // it answers; it only refuses writes
        assertThat(down.getString("checks.database-writes")).isEqualTo("DOWN");
        assertThat(down.getString("reason")).startsWith("the database refuses writes");
        assertThat(ClassNames.PATTERN.matcher(down.getString("reason")).find()).as(down.getString("reason")).isFalse();
        // SmallRye lists its checks in no fixed order (Agroal's own comes first in a full run): find ours by name.
        assertThat(ready.getString("checks.find { it.name == 'ltc-secrets' }.data.database-writes")).isEqualTo("DOWN");

        // Fault cleared: UP again by itself.
        Response r = Poll.until("/health UP again after the fault cleared", Duration.ofSeconds(30),
                () -> given().get("/health"), h -> h.statusCode() == 200, Response::asString);
        assertThat(r.jsonPath().getString("checks.database-writes")).isEqualTo("UP");
        assertThat(r.jsonPath().getString("reason")).isNull();
    }
}
