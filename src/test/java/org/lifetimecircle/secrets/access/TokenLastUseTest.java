package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.access.GrantEndpointsTest.principal;
import static org.lifetimecircle.secrets.access.GrantEndpointsTest.rid;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.access.GrantEndpointsTest.Who;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * {@code GET /principals/{name}/tokens} and the tokens' {@code lastUsedAt}: the time of the last
 * request the token authenticated, whatever that request's outcome, written with that request's
 * audit event (so it equals the event's time). A request the token does not authenticate (wrong
 * secret, revoked) leaves it alone. Restarts are covered by {@code OffboardingIT}.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class TokenLastUseTest {

    @Test
    void theListShowsMetadataOnlyNewestFirstWithLimit() {
        Who who = principal("auditor");
        String second = as(adminToken()).contentType(ContentType.JSON).body(Map.of("ttl", "PT2H"))
                .post("/api/v1/principals/" + who.name() + "/tokens").then().statusCode(201).extract().path("id");
        String body = as(adminToken()).get("/api/v1/principals/" + who.name() + "/tokens").then().statusCode(200)
                .extract().asString();
        List<Map<String, Object>> tokens = io.restassured.path.json.JsonPath.from(body).getList("$");
        assertThat(tokens).hasSize(2);
        assertThat(tokens.get(0)).containsEntry("id", second);
        // API.md's fields are always present (null where not applicable); nothing that could authenticate.
        assertThat(tokens).allSatisfy(t -> assertThat(t).containsOnlyKeys("id", "createdAt", "createdBy", "expiresAt",
                "lastUsedAt", "revokedAt", "revokedBy").containsEntry("lastUsedAt", null)
                .containsEntry("revokedAt", null));
        assertThat(body).doesNotContain(who.token().substring(22)).doesNotContainIgnoringCase("hash");

        as(adminToken()).queryParam("limit", 1).get("/api/v1/principals/" + who.name() + "/tokens").then()
                .statusCode(200).body("size()", equalTo(1)).body("[0].id", equalTo(second));
        for (String bad : List.of("0", "1001", "x")) {
            as(adminToken()).queryParam("limit", bad).get("/api/v1/principals/" + who.name() + "/tokens").then()
                    .statusCode(400).body("code", equalTo("invalid-request"));
        }
        as(adminToken()).get("/api/v1/principals/no-such-one/tokens").then().statusCode(404);
        as(adminToken()).get("/api/v1/principals/No%20Such/tokens").then().statusCode(400);
    }

    @Test
    void lastUsedAtIsTheTimeOfTheLastRequestTheTokenAuthenticated() throws Exception {
        Who who = principal("deployer");
        String id = tokenId(who.token());
        assertThat(lastUsedAt(who.name(), id)).isNull();

        String ok = rid();
        as(who.token()).header("X-Request-Id", ok).get("/api/v1/environments").then().statusCode(200);
        assertThat(lastUsedAt(who.name(), id)).isEqualTo(eventTime(ok));

        // Authenticated but refused (no role, no grant) is still a use of the token.
        String refused = rid();
        as(who.token()).header("X-Request-Id", refused).get("/api/v1/principals").then().statusCode(403);
        Instant afterRefusal = lastUsedAt(who.name(), id);
        assertThat(afterRefusal).isEqualTo(eventTime(refused)).isAfterOrEqualTo(eventTime(ok));

        // Not authenticated: a wrong secret behind the right id, a malformed token. Nothing moves.
        String wrongSecret = "ltcs_" + id + "_" + "A".repeat(43);
        as(wrongSecret).get("/api/v1/environments").then().statusCode(401);
        as("ltcs_" + id + "_short").get("/api/v1/environments").then().statusCode(401);
        assertThat(lastUsedAt(who.name(), id)).isEqualTo(afterRefusal);

        // A second token of the same principal has its own last use.
        String other = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + who.name() + "/tokens").then().statusCode(201).extract().path("token");
        as(other).get("/api/v1/environments").then().statusCode(200);
        assertThat(lastUsedAt(who.name(), id)).isEqualTo(afterRefusal);
        assertThat(lastUsedAt(who.name(), tokenId(other))).isAfterOrEqualTo(afterRefusal);

        // Revoked: the token no longer authenticates, so its last use stays the last accepted request.
        as(adminToken()).delete("/api/v1/tokens/" + id).then().statusCode(204);
        as(who.token()).get("/api/v1/environments").then().statusCode(401);
        assertThat(lastUsedAt(who.name(), id)).isEqualTo(afterRefusal);
    }

    @Test
    void concurrentRequestsLeaveTheLatestOfTheirEventTimes() throws Exception {
        Who who = principal("deployer");
        String id = tokenId(who.token());
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create(RestAssured.baseURI + ":" + RestAssured.port + "/api/v1/environments");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<String> requestIds = new ArrayList<>();
        try {
            List<Future<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String requestId = rid();
                requestIds.add(requestId);
                answers.add(pool.submit(() -> http.send(HttpRequest.newBuilder(uri)
                        .header("Authorization", "Bearer " + who.token()).header("X-Request-Id", requestId).GET()
                        .build(), HttpResponse.BodyHandlers.discarding()).statusCode()));
            }
            for (Future<Integer> a : answers) {
                assertThat(a.get()).isEqualTo(200);
            }
        } finally {
            pool.shutdownNow();
        }
        Instant latest = Instant.EPOCH;
        for (String r : requestIds) {
            Instant t = eventTime(r);
            latest = t.isAfter(latest) ? t : latest;
        }
        assertThat(lastUsedAt(who.name(), id)).isEqualTo(latest);
    }

    static String tokenId(String token) {
        return token.substring(5, 21);
    }

    static Instant lastUsedAt(String principal, String tokenId) {
        List<Map<String, Object>> tokens = as(adminToken()).get("/api/v1/principals/" + principal + "/tokens").then()
                .statusCode(200).extract().jsonPath().getList("$");
        Object at = tokens.stream().filter(t -> tokenId.equals(t.get("id"))).findFirst().orElseThrow()
                .get("lastUsedAt");
        return at == null ? null : Instant.parse((String) at);
    }

    /** The time of the one audit event a request left. */
    static Instant eventTime(String requestId) throws Exception {
        try (Connection c = Db.open();
             PreparedStatement ps = c.prepareStatement("select time from audit_event where request_id = ?")) {
            ps.setString(1, requestId);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("event of " + requestId).isTrue();
                Instant t = Instant.parse(rs.getString(1));
                assertThat(rs.next()).as("one event of " + requestId).isFalse();
                return t;
            }
        }
    }
}
