package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class GrantEndpointsTest {

    /** A principal with its token. */
    record Who(String name, String token) {
    }

    static Who principal(String role) {
        String name = Api.uniqueName(role);
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", role))
                .post("/api/v1/principals").then().statusCode(201);
        String token = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        return new Who(name, token);
    }

    static Response grant(String asToken, Map<String, Object> body) {
        return as(asToken).contentType(ContentType.JSON).body(body).post("/api/v1/grants");
    }

    static Map<String, Object> body(String principal, String environment, String permission, String ttl) {
        Map<String, Object> b = new HashMap<>();
        b.put("principal", principal);
        b.put("environment", environment);
        b.put("permission", permission);
        b.put("ttl", ttl);
        b.put("reason", "deploy of release 1.4");
        return b;
    }

    static String grantId(String principal, String environment, String permission, String ttl) {
        return grant(adminToken(), body(principal, environment, permission, ttl)).then().statusCode(201)
                .extract().path("id");
    }

    static String rid() {
        return "t-" + UUID.randomUUID();
    }

    static Map<String, Object> onlyEventOf(String requestId) throws Exception {
        List<Map<String, Object>> events = Db.eventsOf(requestId);
        assertThat(events).as("events of request " + requestId).hasSize(1);
        return events.get(0);
    }

    @Test
    void aGrantLetsItsPrincipalActAndEveryUseIsCounted() throws Exception {
        Who deployer = principal("deployer");
        as(deployer.token()).get("/api/v1/test-probe/prod/read").then().statusCode(403)
                .body("code", equalTo("forbidden"));

        Response created = grant(adminToken(), body(deployer.name(), "prod", "env-file:read", "PT8H"));
        String id = created.then()
                .statusCode(201)
                .body("principal", equalTo(deployer.name()))
                .body("environment", equalTo("prod"))
                .body("permission", equalTo("env-file:read"))
                .body("grantedBy", equalTo(BootstrapAdmin.NAME))
                .body("reason", equalTo("deploy of release 1.4"))
                .body("active", equalTo(true))
                .body("useCount", equalTo(0))
                .body("lastUsedAt", nullValue())
                .extract().path("id");
        assertThat(created.header("Location")).endsWith("/api/v1/grants/" + id);

        String use = rid();
        as(deployer.token()).header("X-Request-Id", use).get("/api/v1/test-probe/prod/read").then().statusCode(200);
        as(deployer.token()).get("/api/v1/test-probe/prod/read").then().statusCode(200);
        Map<String, Object> event = onlyEventOf(use);
        assertThat(event).containsEntry("outcome", "SUCCESS").containsEntry("environment", "prod");
        assertThat((String) event.get("details")).contains("\"grant\":\"" + id + "\"");

        as(adminToken()).get("/api/v1/grants/" + id).then().statusCode(200)
                .body("useCount", equalTo(2))
                .body("lastUsedAt", notNullValue());
        // The grant is for one permission on one environment only.
        as(deployer.token()).get("/api/v1/test-probe/staging/read").then().statusCode(403);
        as(deployer.token()).get("/api/v1/test-probe/prod/write").then().statusCode(403);
    }

    @Test
    void revocationActsOnTheVeryNextRequest() throws Exception {
        Who deployer = principal("deployer");
        String id = grantId(deployer.name(), "prod", "env-file:write", "PT8H");
        as(deployer.token()).get("/api/v1/test-probe/prod/write").then().statusCode(200);

        String revoke = rid();
        as(adminToken()).header("X-Request-Id", revoke).queryParam("reason", "rotation done")
                .delete("/api/v1/grants/" + id)
                .then().statusCode(204);
        assertThat(onlyEventOf(revoke)).containsEntry("action", "grant.revoke").containsEntry("outcome", "SUCCESS")
                .containsEntry("target", id).containsEntry("environment", "prod");

        String refused = rid();
        as(deployer.token()).header("X-Request-Id", refused).get("/api/v1/test-probe/prod/write").then()
                .statusCode(403).body("code", equalTo("forbidden"));
        Map<String, Object> denied = onlyEventOf(refused);
        assertThat(denied).containsEntry("action", "auth.denied").containsEntry("outcome", "DENIED")
                .containsEntry("actor", deployer.name());

        as(adminToken()).get("/api/v1/grants/" + id).then().statusCode(200)
                .body("active", equalTo(false))
                .body("revokedBy", equalTo(BootstrapAdmin.NAME))
                .body("revokeReason", equalTo("rotation done"))
                .body("revokedAt", notNullValue());
        // Revoking again is harmless and says so in the trail.
        as(adminToken()).delete("/api/v1/grants/" + id + "?reason=again").then().statusCode(204);
    }

    @Test
    void expiryActsOnTheVeryNextRequest() {
        Who engineer = principal("security-engineer");
        grantId(engineer.name(), "staging", "secret:rotate", "PT10M");
        as(engineer.token()).get("/api/v1/test-probe/staging/rotate").then().statusCode(200);
        TestClock.advance(Duration.ofMinutes(10).plusMillis(1));
        as(engineer.token()).get("/api/v1/test-probe/staging/rotate").then().statusCode(403);
    }

    @Test
    void aGrantBeyondTheRoleCeilingIsRefusedAndRecordedAsDenied() throws Exception {
        Who auditor = principal("auditor");
        String request = rid();
        as(adminToken()).header("X-Request-Id", request).contentType(ContentType.JSON)
                .body(body(auditor.name(), "prod", "env-file:read", "PT1H")).post("/api/v1/grants").then()
                .statusCode(422).contentType("application/problem+json").body("code", equalTo("policy-violation"));
        assertThat(onlyEventOf(request)).containsEntry("action", "grant.create").containsEntry("outcome", "DENIED")
                .containsEntry("target", auditor.name()).containsEntry("environment", "prod");
        assertThat(grantsOf(auditor.name())).isZero();

        Who engineer = principal("security-engineer");
        grant(adminToken(), body(engineer.name(), "prod", "env-file:read", "PT1H")).then().statusCode(422);
        assertThat(grantsOf(engineer.name())).isZero();
    }

    @Test
    void aNonAdminMayNotGrantToItselfButMayGrantToOthers() throws Exception {
        Who engineer = principal("security-engineer");
        String request = rid();
        as(engineer.token()).header("X-Request-Id", request).contentType(ContentType.JSON)
                .body(body(engineer.name(), "prod", "secret:rotate", "PT1H")).post("/api/v1/grants").then()
                .statusCode(403).body("code", equalTo("forbidden"));
        assertThat(onlyEventOf(request)).containsEntry("action", "grant.create").containsEntry("outcome", "DENIED")
                .containsEntry("actor", engineer.name());
        assertThat(grantsOf(engineer.name())).isZero();

        Who deployer = principal("deployer");
        grant(engineer.token(), body(deployer.name(), "prod", "env-file:read", "PT1H")).then().statusCode(201)
                .body("grantedBy", equalTo(engineer.name()));

        // Admins need grants for environment-scoped work too, and may give themselves one.
        Who admin = principal("admin");
        as(admin.token()).get("/api/v1/test-probe/prod/rotate").then().statusCode(403);
        grant(admin.token(), body(admin.name(), "prod", "secret:rotate", "PT1H")).then().statusCode(201);
        as(admin.token()).get("/api/v1/test-probe/prod/rotate").then().statusCode(200);
    }

    @Test
    void lifetimesAreBoundedByTheServiceAndTheEnvironment() throws Exception {
        Who deployer = principal("deployer");
        // prod's policy lowers the maximum to P1D; staging has the service-wide P30D.
        grant(adminToken(), body(deployer.name(), "prod", "env-file:read", "PT24H")).then().statusCode(201);
        grant(adminToken(), body(deployer.name(), "prod", "env-file:read", "PT24H1S")).then().statusCode(422)
                .body("detail", equalTo("the grant's lifetime exceeds the maximum of PT24H for environment 'prod'"));
        grant(adminToken(), body(deployer.name(), "staging", "env-file:read", "P30D")).then().statusCode(201);
        grant(adminToken(), body(deployer.name(), "staging", "env-file:read", "P31D")).then().statusCode(422);
        grant(adminToken(), body(deployer.name(), "staging", "env-file:read", "PT0.5S")).then().statusCode(400);
        grant(adminToken(), body(deployer.name(), "staging", "env-file:read", "PT1S")).then().statusCode(201);
        grant(adminToken(), body(deployer.name(), "staging", "env-file:read", "P999999999D")).then().statusCode(422);

        Instant until = TestClock.now().plus(Duration.ofHours(2)).truncatedTo(ChronoUnit.SECONDS);
        Map<String, Object> byTime = body(deployer.name(), "staging", "env-file:write", null);
        byTime.remove("ttl");
        byTime.put("expiresAt", until.toString());
        grant(adminToken(), byTime).then().statusCode(201).body("expiresAt", equalTo(until.toString()));

        byTime.put("expiresAt", TestClock.now().minusSeconds(60).toString());
        grant(adminToken(), byTime).then().statusCode(400);
        byTime.put("ttl", "PT1H");
        byTime.put("expiresAt", until.toString());
        grant(adminToken(), byTime).then().statusCode(400).body("detail", equalTo(
                "give exactly one of 'ttl' (such as PT8H) and 'expiresAt' (RFC 3339)"));
        assertThat(grantsOf(deployer.name())).isEqualTo(4);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"principal\":\"%s\",\"environment\":\"prod\",\"permission\":\"env-file:read\",\"ttl\":\"PT1H\"}",
        "{\"principal\":\"%s\",\"environment\":\"prod\",\"permission\":\"env-file:read\",\"ttl\":\"PT1H\",\"reason\":\" \"}",
        "{\"principal\":\"%s\",\"environment\":\"prod\",\"permission\":\"env-file:read\",\"ttl\":\"PT1H\",\"reason\":\"a\\nb\"}",
        "{\"principal\":\"%s\",\"environment\":\"prod\",\"permission\":\"env-file:read\",\"ttl\":\"1h\",\"reason\":\"r\"}",
        "{\"principal\":\"%s\",\"environment\":\"prod\",\"permission\":\"env-file:read\",\"ttl\":3600,\"reason\":\"r\"}",
        "{\"principal\":\"%s\",\"environment\":\"prod\",\"permission\":\"env-file:read\",\"expiresAt\":\"tomorrow\",\"reason\":\"r\"}",
        "{\"principal\":\"%s\",\"environment\":\"prod\",\"permission\":\"env-file:everything\",\"ttl\":\"PT1H\",\"reason\":\"r\"}",
        "{\"principal\":\"%s\",\"environment\":\"../etc\",\"permission\":\"env-file:read\",\"ttl\":\"PT1H\",\"reason\":\"r\"}",
        "{\"principal\":\"%s\",\"permission\":\"env-file:read\",\"ttl\":\"PT1H\",\"reason\":\"r\"}",
        "{\"principal\":\"%s\",\"environment\":\"prod\",\"permission\":\"env-file:read\",\"ttl\":\"PT1H\",\"reason\":\"r\",\"admin\":true}",
        "{\"principal\":\"%s\",\"environment\":\"prod\",\"permission\":\"env-file:read\",\"ttl\":\"PT1H\",\"reason\":\"r\"",
        "[\"%s\"]"})
    void badGrantRequestsAre400AndChangeNothing(String template) throws Exception {
        Who deployer = principal("deployer");
        as(adminToken()).contentType(ContentType.JSON).body(template.formatted(deployer.name())).post("/api/v1/grants")
                .then().statusCode(400).contentType("application/problem+json").body("code", equalTo("invalid-request"));
        assertThat(grantsOf(deployer.name())).isZero();
    }

    @Test
    void unknownNamesAndNonScopedPermissionsAreRefused() throws Exception {
        Who deployer = principal("deployer");
        grant(adminToken(), body("nobody-" + deployer.name(), "prod", "env-file:read", "PT1H")).then().statusCode(404);
        grant(adminToken(), body(deployer.name(), "nowhere", "env-file:read", "PT1H")).then().statusCode(404);
        grant(adminToken(), body(deployer.name(), "prod", "metadata:read", "PT1H")).then().statusCode(422);
        assertThat(grantsOf(deployer.name())).isZero();
        as(adminToken()).delete("/api/v1/grants/0123456789abcdef?reason=x").then().statusCode(404);
        as(adminToken()).delete("/api/v1/grants/not-an-id?reason=x").then().statusCode(400);
        String id = grantId(deployer.name(), "prod", "env-file:read", "PT1H");
        as(adminToken()).delete("/api/v1/grants/" + id).then().statusCode(400).body("code", equalTo("invalid-request"));
        as(adminToken()).get("/api/v1/grants/" + id).then().statusCode(200).body("active", equalTo(true));
    }

    @Test
    void grantsAreListedNewestFirstWithFilters() {
        Who deployer = principal("deployer");
        String first = grantId(deployer.name(), "prod", "env-file:read", "PT1H");
        String second = grantId(deployer.name(), "staging", "env-file:read", "PT1H");
        as(adminToken()).delete("/api/v1/grants/" + first + "?reason=done").then().statusCode(204);

        List<String> all = as(adminToken()).get("/api/v1/grants?principal=" + deployer.name()).then().statusCode(200)
                .extract().jsonPath().getList("id");
        assertThat(all).containsExactly(second, first);
        assertThat(as(adminToken()).get("/api/v1/grants?principal=" + deployer.name() + "&active=true").then()
                .statusCode(200).extract().jsonPath().getList("id", String.class)).containsExactly(second);
        assertThat(as(adminToken()).get("/api/v1/grants?principal=" + deployer.name() + "&active=false").then()
                .statusCode(200).extract().jsonPath().getList("id", String.class)).containsExactly(first);
        assertThat(as(adminToken()).get("/api/v1/grants?principal=" + deployer.name() + "&environment=staging")
                .then().statusCode(200).extract().jsonPath().getList("id", String.class)).containsExactly(second);
        assertThat(as(adminToken()).get("/api/v1/grants?principal=" + deployer.name() + "&limit=1")
                .then().statusCode(200).extract().jsonPath().getList("id", String.class)).containsExactly(second);
        // metadata:read is enough to list grants.
        as(deployer.token()).get("/api/v1/grants?principal=" + deployer.name()).then().statusCode(200);
        for (String bad : List.of("active=yes", "limit=0", "limit=1001", "environment=..%2F", "principal=Bad%20Name")) {
            as(adminToken()).get("/api/v1/grants?" + bad).then().statusCode(400).body("code", equalTo("invalid-request"));
        }
    }

    @Test
    void theAccessReviewShowsWhoCouldReadWhoGrantedItAndWhetherTheyUsedIt() {
        Who used = principal("deployer");
        Who idle = principal("deployer");
        Who revoked = principal("deployer");
        String usedGrant = grantId(used.name(), "staging", "env-file:read", "PT2H");
        String idleGrant = grantId(idle.name(), "staging", "env-file:read", "PT2H");
        String revokedGrant = grantId(revoked.name(), "staging", "env-file:read", "PT2H");
        as(used.token()).get("/api/v1/test-probe/staging/read").then().statusCode(200);
        as(used.token()).get("/api/v1/test-probe/staging/read").then().statusCode(200);
        as(revoked.token()).get("/api/v1/test-probe/staging/read").then().statusCode(200);
        as(adminToken()).queryParam("reason", "left the team").delete("/api/v1/grants/" + revokedGrant).then().statusCode(204);
        as(revoked.token()).get("/api/v1/test-probe/staging/read").then().statusCode(403);

        Who auditor = principal("auditor");
        var review = as(auditor.token()).get("/api/v1/access-review?environment=staging&permission=env-file:read")
                .then().statusCode(200)
                .body("environment", equalTo("staging"))
                .extract().jsonPath();
        List<Map<String, Object>> entries = review.getList("entries");
        Map<String, Map<String, Object>> byGrant = new HashMap<>();
        entries.forEach(e -> byGrant.put((String) e.get("grantId"), e));
        assertThat(byGrant.get(usedGrant)).containsEntry("principal", used.name()).containsEntry("role", "deployer")
                .containsEntry("grantedBy", BootstrapAdmin.NAME).containsEntry("reason", "deploy of release 1.4")
                .containsEntry("usesInWindow", 2).containsEntry("useCount", 2);
        assertThat(byGrant.get(idleGrant)).containsEntry("usesInWindow", 0).containsEntry("lastUseInWindow", null);
        assertThat(byGrant.get(revokedGrant)).containsEntry("usesInWindow", 1)
                .containsEntry("revokeReason", "left the team");
        assertThat(entries).allSatisfy(e -> assertThat(e.get("permission")).isEqualTo("env-file:read"));

        // A window that ended before these grants existed does not list them.
        var past = as(auditor.token()).get("/api/v1/access-review?environment=staging&from=2020-01-01T00:00:00Z"
                + "&to=2020-02-01T00:00:00Z").then().statusCode(200).extract().jsonPath().getList("entries.grantId");
        assertThat(past).doesNotContain(usedGrant, idleGrant, revokedGrant);

        as(used.token()).get("/api/v1/access-review?environment=staging").then().statusCode(403);
        as(auditor.token()).get("/api/v1/access-review").then().statusCode(400);
        as(auditor.token()).get("/api/v1/access-review?environment=staging&from=2026-02-01T00:00:00Z"
                + "&to=2026-01-01T00:00:00Z").then().statusCode(400);
        as(auditor.token()).get("/api/v1/access-review?environment=staging&permission=audit:read").then().statusCode(400);
    }

    private static long grantsOf(String principal) throws Exception {
        return Db.queryLong("select count(*) from access_grant g join principal p on p.id = g.principal_id "
                + "where p.name = '" + principal + "'");
    }
}
