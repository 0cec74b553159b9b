package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/** The bootstrap admin's token expires like any other token (ltc-secrets.tokens.default-ttl, P90D here). */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class BootstrapTokenExpiryTest {

    private static final Duration DEFAULT_TTL = Duration.ofDays(90);

    @Inject
    BootstrapAdmin bootstrapAdmin;

    @Test
    void theBootstrapTokenHasTheDefaultLifetime() {
        JsonPath tokens = as(adminToken()).get("/api/v1/principals/" + BootstrapAdmin.NAME + "/tokens").then()
                .statusCode(200).extract().jsonPath();
        String expiresAt = tokens.getString("[-1].expiresAt");
        assertThat(expiresAt).as("bootstrap token expiry").isNotNull();
        assertThat(Duration.between(Instant.parse(tokens.getString("[-1].createdAt")), Instant.parse(expiresAt)))
                .isEqualTo(DEFAULT_TTL);
    }

    @Test
    void aTokenLeftWithoutExpiryByAnOlderVersionGetsOneOnTheNextStart() throws Exception {
        String name = Api.uniqueName("legacy");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(201);
        String id = as(adminToken()).post("/api/v1/principals/" + name + "/tokens").then().statusCode(201)
                .extract().path("id");
        Db.exec("update api_token set expires_at = null where id = '" + id + "'");
        long before = Db.queryLong("select count(*) from audit_event where action = 'token.expiry-set'");

        Instant now = TestClock.now();
        bootstrapAdmin.run();

        String expiresAt = as(adminToken()).get("/api/v1/principals/" + name + "/tokens").then().statusCode(200)
                .extract().path("[0].expiresAt");
        assertThat(expiresAt).isNotNull();
        assertThat(Instant.parse(expiresAt)).isBetween(now.plus(DEFAULT_TTL).minusSeconds(1),
                TestClock.now().plus(DEFAULT_TTL));
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'token.expiry-set' "
                + "and details like '%" + id + "%'")).isEqualTo(1);

        bootstrapAdmin.run(); // nothing left to limit: nothing recorded
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'token.expiry-set'"))
                .isEqualTo(before + 1);
    }
}
