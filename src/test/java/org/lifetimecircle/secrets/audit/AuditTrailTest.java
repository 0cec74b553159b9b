package org.lifetimecircle.secrets.audit;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.TestDataDir;

/** Every /api/v1 request leaves one event with who, what, where, outcome and request id. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class AuditTrailTest {

    @Test
    void aSuccessfulReadIsRecorded() {
        String rid = rid();
        as(adminToken()).header("X-Request-Id", rid).get("/api/v1/principals").then().statusCode(200);
        Map<String, Object> e = eventOf(rid);
        assertThat(e).containsEntry("actor", "bootstrap-admin").containsEntry("action", "principal.list")
                .containsEntry("outcome", "SUCCESS").containsEntry("sourceIp", "127.0.0.1");
    }

    @Test
    void aMutationIsRecordedWithItsTargetAndDetails() {
        String rid = rid();
        String name = Api.uniqueName("audited");
        as(adminToken()).header("X-Request-Id", rid).contentType(ContentType.JSON)
                .body(Map.of("name", name, "role", "deployer")).post("/api/v1/principals").then().statusCode(201);
        Map<String, Object> e = eventOf(rid);
        assertThat(e).containsEntry("action", "principal.create").containsEntry("target", name)
                .containsEntry("outcome", "SUCCESS");
        assertThat((Map<String, Object>) e.get("details")).containsEntry("role", "deployer");
    }

    @Inject
    AuthDenials authDenials;

    @Test
    void aMissingTokenIsRecordedAsAnonymousDenial() {
        authDenials.flush(); // 401s of earlier tests go out first: this request opens its own window
        String rid = rid();
        given().header("X-Request-Id", rid).get("/api/v1/principals").then().statusCode(401);
        authDenials.flush(); // what the once-a-second flush does
        Map<String, Object> e = eventOf(rid);
        assertThat(e).containsEntry("actor", "anonymous").containsEntry("action", "auth.denied")
                .containsEntry("outcome", "DENIED").containsEntry("sourceIp", "127.0.0.1");
        assertThat((Map<String, Object>) e.get("details")).containsEntry("endpoints", List.of("principal.list"))
                .containsEntry("status", 401).containsEntry("count", 1).containsEntry("reason", "missing-token");
    }

    @Test
    void aForbiddenRequestIsRecordedAsDeniedForThePrincipal() {
        String token = Api.tokenFor("auditor");
        String rid = rid();
        as(token).header("X-Request-Id", rid).contentType(ContentType.JSON)
                .body(Map.of("name", Api.uniqueName("nope"), "role", "admin")).post("/api/v1/principals")
                .then().statusCode(403);
        Map<String, Object> e = eventOf(rid);
        assertThat((String) e.get("actor")).startsWith("auditor-");
        assertThat(e).containsEntry("action", "auth.denied").containsEntry("outcome", "DENIED");
        assertThat((Map<String, Object>) e.get("details")).containsEntry("endpoint", "principal.create");
    }

    @Test
    void badInputAndRefusedChangesAreRecordedAsFailed() {
        String rid = rid();
        as(adminToken()).header("X-Request-Id", rid).contentType(ContentType.JSON).body("{\"name\":")
                .post("/api/v1/principals").then().statusCode(400);
        Map<String, Object> e = eventOf(rid);
        assertThat(e).containsEntry("action", "principal.create").containsEntry("outcome", "FAILED");
        assertThat((Map<String, Object>) e.get("details")).containsEntry("code", "invalid-request");

        String rid2 = rid();
        as(adminToken()).header("X-Request-Id", rid2).contentType(ContentType.JSON)
                .body(Map.of("name", "bootstrap-admin", "role", "auditor")).post("/api/v1/principals")
                .then().statusCode(409);
        assertThat((Map<String, Object>) eventOf(rid2).get("details")).containsEntry("code", "conflict");
    }

    @Test
    void eventsPageBySeqAndFilter() {
        List<Map<String, Object>> page = as(adminToken()).get("/api/v1/audit/events?limit=5").then().statusCode(200)
                .extract().jsonPath().getList("$");
        assertThat(page).hasSizeBetween(1, 5);
        long first = ((Number) page.get(0).get("seq")).longValue();
        assertThat(first).isEqualTo(1);
        assertThat(page.get(0)).containsEntry("action", "system.start").containsEntry("prevHash", "0".repeat(64));
        long last = ((Number) page.get(page.size() - 1).get("seq")).longValue();
        List<Map<String, Object>> next = as(adminToken()).get("/api/v1/audit/events?limit=2&after=" + last)
                .then().statusCode(200).extract().jsonPath().getList("$");
        assertThat(((Number) next.get(0).get("seq")).longValue()).isEqualTo(last + 1);
        List<String> actions = as(adminToken()).get("/api/v1/audit/events?action=principal.create&limit=1000")
                .then().statusCode(200).extract().jsonPath().getList("action");
        assertThat(actions).isNotEmpty().containsOnly("principal.create");
    }

    @ParameterizedTest
    @ValueSource(strings = {"limit=0", "limit=1001", "limit=x", "after=-1", "after=1.5", "action=Bad%20Action",
        "environment=..%2F"})
    void badEventQueriesAreRefused(String query) {
        as(adminToken()).get("/api/v1/audit/events?" + query).then().statusCode(400)
                .body("code", equalTo("invalid-request"));
    }

    @Test
    void auditReadsNeedTheAuditPermission() {
        for (String role : new String[] {"admin", "security-engineer", "auditor"}) {
            String token = Api.tokenFor(role);
            for (String path : new String[] {"events", "export", "verify", "checkpoint"}) {
                as(token).get("/api/v1/audit/" + path).then().statusCode(200);
            }
        }
        String deployer = Api.tokenFor("deployer");
        for (String path : new String[] {"events", "export", "verify", "checkpoint"}) {
            as(deployer).get("/api/v1/audit/" + path).then().statusCode(403);
            given().get("/api/v1/audit/" + path).then().statusCode(401);
        }
    }

    @Test
    void theTokenFileAndLogNeverAppearInEvents() throws Exception {
        String token = Files.readString(TestDataDir.dataDir().resolve("bootstrap-admin.token")).trim();
        String all = as(adminToken()).get("/api/v1/audit/events?limit=1000").then().statusCode(200).extract().asString();
        assertThat(all).doesNotContain(token).doesNotContain(token.substring(22));
    }

    private static String rid() {
        return "t-" + UUID.randomUUID();
    }

    /** The one event carrying this request id (the trail is searched from the newest page backwards). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> eventOf(String requestId) {
        long after = 0;
        Map<String, Object> found = null;
        int matches = 0;
        while (true) {
            JsonPath page = as(adminToken()).get("/api/v1/audit/events?limit=1000&after=" + after).then()
                    .statusCode(200).extract().jsonPath();
            List<Map<String, Object>> events = page.getList("$");
            for (Map<String, Object> e : events) {
                if (requestId.equals(e.get("requestId"))) {
                    found = e;
                    matches++;
                }
            }
            // A short page reached the head; paging "until empty" never ends, because every page
            // request is itself audited and appends one more event behind the cursor.
            if (events.size() < 1000) {
                break;
            }
            after = ((Number) events.get(events.size() - 1).get("seq")).longValue();
        }
        assertThat(matches).as("events with request id " + requestId).isEqualTo(1);
        return found;
    }
}
