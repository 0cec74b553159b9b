package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.lifetimecircle.secrets.access.GrantEndpointsTest.body;
import static org.lifetimecircle.secrets.access.GrantEndpointsTest.grantId;
import static org.lifetimecircle.secrets.access.GrantEndpointsTest.onlyEventOf;
import static org.lifetimecircle.secrets.access.GrantEndpointsTest.principal;
import static org.lifetimecircle.secrets.access.GrantEndpointsTest.rid;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.access.GrantEndpointsTest.Who;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * {@code DELETE /principals/{name}?reason=}: offboarding. The principal's tokens and grants are
 * revoked in the same audited commit as the principal is disabled, the rows stay for the history,
 * the name is never given out again, and the refusals (bad input, the caller itself) change nothing.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class PrincipalDisableTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    @SuppressWarnings("unchecked")
    void disablingRevokesEveryTokenAndGrantInOneAuditedCommitAndKeepsTheHistory() throws Exception {
        Who leaver = principal("deployer");
        String secondToken = as(adminToken()).contentType(ContentType.JSON).body(Map.of("ttl", "PT1H"))
                .post("/api/v1/principals/" + leaver.name() + "/tokens").then().statusCode(201).extract().path("token");
        String prodRead = grantId(leaver.name(), "prod", "env-file:read", "PT8H");
        String stagingWrite = grantId(leaver.name(), "staging", "env-file:write", "PT8H");
        String earlier = grantId(leaver.name(), "prod", "env-file:write", "PT8H");
        as(adminToken()).queryParam("reason", "no longer needed").delete("/api/v1/grants/" + earlier).then()
                .statusCode(204);
        as(leaver.token()).get("/api/v1/test-probe/prod/read").then().statusCode(200);
        as(secondToken).get("/api/v1/environments").then().statusCode(200);

        String request = rid();
        as(adminToken()).header("X-Request-Id", request).queryParam("reason", "left the company (HR-1234)")
                .delete("/api/v1/principals/" + leaver.name()).then().statusCode(204);

        // From the very next request on, neither token works, grant or no grant.
        for (String token : List.of(leaver.token(), secondToken)) {
            as(token).get("/api/v1/test-probe/prod/read").then().statusCode(401)
                    .header("WWW-Authenticate", startsWith("Bearer")).body("code", equalTo("unauthorized"));
            as(token).get("/api/v1/environments").then().statusCode(401);
        }

        JsonPath principal = as(adminToken()).get("/api/v1/principals/" + leaver.name()).then().statusCode(200)
                .body("enabled", equalTo(false))
                .body("role", equalTo("deployer"))
                .body("disabledBy", equalTo(BootstrapAdmin.NAME))
                .body("disabledReason", equalTo("left the company (HR-1234)"))
                .extract().jsonPath();
        String disabledAt = principal.getString("disabledAt");
        assertThat(disabledAt).isNotNull();

        JsonPath tokens = as(adminToken()).get("/api/v1/principals/" + leaver.name() + "/tokens").then()
                .statusCode(200).body("revokedAt", everyItem(equalTo(disabledAt)))
                .body("revokedBy", everyItem(equalTo(BootstrapAdmin.NAME)))
                .body("lastUsedAt", everyItem(notNullValue())).extract().jsonPath();
        assertThat(tokens.getList("id")).hasSize(2);

        List<Map<String, Object>> grants = as(adminToken()).queryParam("principal", leaver.name())
                .get("/api/v1/grants").then().statusCode(200).extract().jsonPath().getList("$");
        assertThat(grants).hasSize(3).allSatisfy(g -> assertThat(g).containsEntry("active", false));
        for (String id : List.of(prodRead, stagingWrite)) {
            as(adminToken()).get("/api/v1/grants/" + id).then().statusCode(200)
                    .body("active", equalTo(false))
                    .body("revokedAt", equalTo(disabledAt))
                    .body("revokedBy", equalTo(BootstrapAdmin.NAME))
                    .body("revokeReason", equalTo("left the company (HR-1234)"));
        }
        // A grant revoked before keeps its own revocation.
        as(adminToken()).get("/api/v1/grants/" + earlier).then().body("revokeReason", equalTo("no longer needed"));
        // The access review shows who it was and that the access ended with the principal.
        List<Map<String, Object>> review = as(adminToken()).queryParam("environment", "prod")
                .queryParam("permission", "env-file:read").get("/api/v1/access-review").then().statusCode(200)
                .extract().jsonPath().getList("entries");
        assertThat(review).filteredOn(e -> prodRead.equals(e.get("grantId"))).singleElement().satisfies(e -> {
            assertThat(e).containsEntry("principalEnabled", false).containsEntry("revokedAt", disabledAt)
                    .containsEntry("usesInWindow", 1);
        });

        // One event, in the commit that disabled it, naming everything it revoked.
        Map<String, Object> event = onlyEventOf(request);
        assertThat(event).containsEntry("action", "principal.disable").containsEntry("outcome", "SUCCESS")
                .containsEntry("actor", BootstrapAdmin.NAME).containsEntry("target", leaver.name());
        Map<?, ?> details = JSON.readValue((String) event.get("details"), Map.class);
        assertThat(details.get("reason")).isEqualTo("left the company (HR-1234)");
        assertThat(details.get("alreadyDisabled")).isEqualTo(false);
        assertThat((List<?>) details.get("revokedTokens")).containsExactlyInAnyOrderElementsOf(tokens.getList("id"));
        assertThat((List<Object>) details.get("revokedGrants")).containsExactlyInAnyOrder(
                Map.of("id", prodRead, "environment", "prod", "permission", "env-file:read"),
                Map.of("id", stagingWrite, "environment", "staging", "permission", "env-file:write"));
    }

    @Test
    void aDisabledNameIsNeverGivenOutAgainNorGivenTokensOrGrants() {
        Who leaver = principal("auditor");
        disable(leaver.name(), "contract ended").then().statusCode(204);

        for (String role : List.of("auditor", "admin")) {
            as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", leaver.name(), "role", role))
                    .post("/api/v1/principals").then().statusCode(409)
                    .contentType("application/problem+json").body("code", equalTo("conflict"));
        }
        as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + leaver.name() + "/tokens").then().statusCode(409)
                .body("code", equalTo("conflict"));
        as(adminToken()).contentType(ContentType.JSON).body(body(leaver.name(), "prod", "env-file:read", "PT1H"))
                .post("/api/v1/grants").then().statusCode(409);
        as(adminToken()).get("/api/v1/principals/" + leaver.name()).then().body("role", equalTo("auditor"))
                .body("enabled", equalTo(false));
        as(adminToken()).get("/api/v1/principals/" + leaver.name() + "/tokens").then().statusCode(200)
                .body("size()", equalTo(1));
    }

    @Test
    void disablingTwiceIs204AndKeepsTheFirstDisable() throws Exception {
        Who leaver = principal("security-engineer");
        disable(leaver.name(), "first").then().statusCode(204);
        JsonPath first = as(adminToken()).get("/api/v1/principals/" + leaver.name()).then().extract().jsonPath();

        String again = rid();
        as(adminToken()).header("X-Request-Id", again).queryParam("reason", "second")
                .delete("/api/v1/principals/" + leaver.name()).then().statusCode(204);
        as(adminToken()).get("/api/v1/principals/" + leaver.name()).then()
                .body("disabledAt", equalTo(first.getString("disabledAt")))
                .body("disabledReason", equalTo("first"));
        Map<String, Object> event = onlyEventOf(again);
        assertThat(event).containsEntry("action", "principal.disable").containsEntry("outcome", "SUCCESS");
        assertThat((String) event.get("details")).contains("\"alreadyDisabled\":true").contains("\"reason\":\"second\"")
                .contains("\"revokedTokens\":[]");
    }

    @Test
    void nobodyDisablesItself() throws Exception {
        Who self = principal("admin");
        String request = rid();
        as(self.token()).header("X-Request-Id", request).queryParam("reason", "bye")
                .delete("/api/v1/principals/" + self.name()).then().statusCode(409)
                .contentType("application/problem+json").body("code", equalTo("conflict"))
                .body("detail", org.hamcrest.Matchers.containsString("another admin"));
        assertThat(onlyEventOf(request)).containsEntry("action", "principal.disable")
                .containsEntry("outcome", "FAILED");
        as(self.token()).get("/api/v1/principals/" + self.name()).then().statusCode(200).body("enabled", equalTo(true));
        // Another admin may.
        disable(self.name(), "offboarded by a colleague").then().statusCode(204);
        as(self.token()).get("/api/v1/principals").then().statusCode(401);
    }

    @Test
    void badRequestsAre400Or404AndChangeNothing() throws Exception {
        Who target = principal("deployer");
        String grant = grantId(target.name(), "prod", "env-file:read", "PT8H");
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("/api/v1/principals/" + target.name(), "400 no reason");
        cases.put("/api/v1/principals/" + target.name() + "?reason=", "400 empty reason");
        cases.put("/api/v1/principals/" + target.name() + "?reason=%20%09", "400 blank reason");
        cases.put("/api/v1/principals/" + target.name() + "?reason=" + "x".repeat(501), "400 reason over 500");
        cases.put("/api/v1/principals/" + target.name() + "?reason=" + "%C3%A9".repeat(501), "400 reason over 500 é");
        cases.put("/api/v1/principals/" + target.name() + "?reason=ok%0Aseq%3D1%20actor%3Dsystem", "400 newline");
        cases.put("/api/v1/principals/" + target.name() + "?reason=ok%0D", "400 carriage return");
        cases.put("/api/v1/principals/Upper-Case?reason=x", "400 bad name");
        cases.put("/api/v1/principals/" + "n".repeat(65) + "?reason=x", "400 name too long");
        cases.put("/api/v1/principals/a%0Ab?reason=x", "400 newline in name");
        cases.put("/api/v1/principals/nobody-like-this?reason=x", "404 unknown");
        cases.forEach((path, expected) -> {
            int status = Integer.parseInt(expected.substring(0, 3));
            var r = as(adminToken()).urlEncodingEnabled(false).delete(path);
            assertThat(r.statusCode()).as(expected + ": " + r.asString()).isEqualTo(status);
            assertThat(r.contentType()).as(expected).startsWith("application/problem+json");
            assertThat(r.jsonPath().getString("code")).as(expected)
                    .isEqualTo(status == 400 ? "invalid-request" : "not-found");
        });
        // Past the HTTP layer's 4 KiB request line the reason never reaches the service: a bare 414.
        assertThat(as(adminToken()).queryParam("reason", "y".repeat(20_000)).delete("/api/v1/principals/"
                + target.name()).statusCode()).isEqualTo(414);
        String missing = rid();
        as(adminToken()).header("X-Request-Id", missing).delete("/api/v1/principals/" + target.name()).then()
                .statusCode(400).body("detail", org.hamcrest.Matchers.containsString("reason"));
        assertThat(onlyEventOf(missing)).containsEntry("action", "principal.disable").containsEntry("outcome", "FAILED");

        // Nothing changed: the principal, its token and its grant all still work.
        as(adminToken()).get("/api/v1/principals/" + target.name()).then().body("enabled", equalTo(true))
                .body("disabledAt", nullValue());
        as(target.token()).get("/api/v1/test-probe/prod/read").then().statusCode(200);
        as(adminToken()).get("/api/v1/grants/" + grant).then().body("active", equalTo(true));
        assertThat(Db.queryLong("select count(*) from api_token t join principal p on p.id = t.principal_id "
                + "where p.name = '" + target.name() + "' and t.revoked_at is not null")).isZero();
    }

    private static io.restassured.response.Response disable(String name, String reason) {
        return as(adminToken()).queryParam("reason", reason).delete("/api/v1/principals/" + name);
    }
}
