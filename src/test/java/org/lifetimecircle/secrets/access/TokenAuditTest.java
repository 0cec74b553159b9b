package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Which token acted is in every authenticated request's event ({@code details.tokenId}, the id,
 * never the token), and a token minted for another principal that holds active grants raises an
 * alert: whoever holds it can act as that principal.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class TokenAuditTest {

    private static final List<String> ALERTS = new CopyOnWriteArrayList<>();
    private static HttpServer webhook;

    @BeforeAll
    static void alertReceiver() throws Exception {
        webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", TestDataDir.healthPort()), 0);
        webhook.createContext("/alert", exchange -> {
            ALERTS.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        webhook.start();
    }

    @AfterAll
    static void stopReceiver() {
        webhook.stop(0);
    }

    @Test
    void everyAuthenticatedEventNamesTheTokenThatActed() throws Exception {
        String deployer = Api.tokenFor("deployer");
        String admin = adminToken();

        String read = rid();
        as(deployer).header("X-Request-Id", read).get("/api/v1/environments").then().statusCode(200);
        String forbidden = rid();
        as(deployer).header("X-Request-Id", forbidden).get("/api/v1/principals").then().statusCode(403);
        String name = Api.uniqueName("acted-on");
        String mutation = rid();
        as(admin).header("X-Request-Id", mutation).contentType(ContentType.JSON)
                .body(Map.of("name", name, "role", "deployer")).post("/api/v1/principals").then().statusCode(201);
        String refused = rid();
        as(admin).header("X-Request-Id", refused).contentType(ContentType.JSON)
                .body(Map.of("name", name, "role", "deployer")).post("/api/v1/principals").then().statusCode(409);
        String minted = rid();
        String issuedId = as(admin).header("X-Request-Id", minted).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("id");

        assertThat(details(read)).containsEntry("tokenId", idOf(deployer));
        assertThat(details(forbidden)).containsEntry("tokenId", idOf(deployer));
        assertThat(details(mutation)).containsEntry("tokenId", idOf(admin));
        assertThat(details(refused)).containsEntry("tokenId", idOf(admin));
        assertThat(details(minted)).containsEntry("tokenId", idOf(admin)).containsEntry("issuedTokenId", issuedId);
        for (String rid : List.of(read, forbidden, mutation, refused, minted)) {
            assertThat(event(rid).toString()).doesNotContain(deployer).doesNotContain(admin);
        }
    }

    @Test
    void aTokenMintedForAnotherPrincipalWithActiveGrantsRaisesAnAlert() throws Exception {
        String admin = adminToken();
        String withoutGrants = principal("deployer");
        String withGrants = principal("deployer");
        as(admin).contentType(ContentType.JSON).body(Map.of("principal", withGrants, "environment", "prod",
                "permission", "env-file:read", "ttl", "PT1H", "reason", "token alert test"))
                .post("/api/v1/grants").then().statusCode(201);
        as(admin).contentType(ContentType.JSON).body(Map.of("principal", "bootstrap-admin", "environment", "prod",
                "permission", "env-file:read", "ttl", "PT1H", "reason", "token alert test"))
                .post("/api/v1/grants").then().statusCode(201);
        int before = ALERTS.size();

        // No alert: a principal without active grants, and the caller's own token.
        mint(admin, withoutGrants);
        mint(admin, "bootstrap-admin");
        String rid = rid();
        String issued = as(admin).header("X-Request-Id", rid).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + withGrants + "/tokens").then().statusCode(201).extract().path("id");

        // Other test classes share this app, and an alert they raised may be retried into this
        // receiver while this test runs: look only at alerts about this test's principals.
        JsonPath alert = awaitAlert(before, "token.created-for-other", withGrants);
        assertThat(alert.getString("details.createdBy")).isEqualTo("bootstrap-admin");
        assertThat(alert.getString("details.tokenId")).isEqualTo(issued);
        assertThat(alert.getList("details.activeGrants")).containsExactly("prod env-file:read");
        // Alerts are sent in order by one thread: the two earlier tokens raised none.
        // A snapshot first: a late alert arriving while a subList of the live list is read would throw.
        List<String> received = List.copyOf(ALERTS);
        List<String> about = received.subList(before, received.size()).stream().map(JsonPath::from)
                .filter(a -> "token.created-for-other".equals(a.getString("alert")))
                .map(a -> a.getString("details.principal"))
                .filter(p -> List.of(withGrants, withoutGrants, "bootstrap-admin").contains(p)).toList();
        assertThat(about).containsExactly(withGrants);
        assertThat(details(rid)).containsEntry("activeGrantsOfOtherPrincipal", List.of("prod env-file:read"));
    }

    private static String principal(String role) {
        String name = Api.uniqueName(role);
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", role))
                .post("/api/v1/principals").then().statusCode(201);
        return name;
    }

    private static void mint(String token, String principal) {
        as(token).contentType(ContentType.JSON).body("{}").post("/api/v1/principals/" + principal + "/tokens")
                .then().statusCode(201);
    }

    private static JsonPath awaitAlert(int from, String kind, String principal) {
        AtomicReference<JsonPath> alert = new AtomicReference<>();
        Poll.atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            List<String> received = List.copyOf(ALERTS);
            alert.set(received.subList(Math.min(from, received.size()), received.size()).stream().map(JsonPath::from)
                    .filter(json -> kind.equals(json.getString("alert")))
                    .filter(json -> principal.equals(json.getString("details.principal")))
                    .findFirst().orElse(null));
            assertThat(alert.get()).as("alert %s about %s not received; got %s", kind, principal, ALERTS)
                    .isNotNull();
        });
        return alert.get();
    }

    private static String idOf(String token) {
        return TokenLastUseTest.tokenId(token);
    }

    private static String rid() {
        return "tok-" + java.util.UUID.randomUUID();
    }

    /** The request's one event, read over HTTP (its seq from the database, its content from the API). */
    private static Map<String, Object> event(String requestId) throws Exception {
        List<Map<String, Object>> rows = Db.eventsOf(requestId);
        assertThat(rows).as("events of %s", requestId).hasSize(1);
        long seq = ((Number) rows.get(0).get("seq")).longValue();
        List<Map<String, Object>> page = as(adminToken()).get("/api/v1/audit/events?limit=1&after=" + (seq - 1))
                .then().statusCode(200).extract().jsonPath().getList("$");
        assertThat(page.get(0).get("requestId")).isEqualTo(requestId);
        return page.get(0);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> details(String requestId) throws Exception {
        return (Map<String, Object>) event(requestId).get("details");
    }
}
