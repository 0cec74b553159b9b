package org.lifetimecircle.secrets.web;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.TestDataDir;

/** Every class of bad input gets a 4xx problem response with a stable code and changes nothing. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class BadInputTest {

    private static final String CANARY = "canary-value-9d1e";

    @ParameterizedTest
    @ValueSource(strings = {
        "{", // truncated
        "{\"name\": \"x\", \"role\": \"auditor\"", // unterminated
        "not json at all",
        "{\"name\": \"" + CANARY + "\", \"role\": \"auditor\"} {}", // trailing document
        "[]", // wrong shape
        "\"just a string\"",
        "{\"name\": 123, \"role\": \"auditor\"}", // wrong type
        "{\"name\": [\"" + CANARY + "\"], \"role\": \"auditor\"}",
        "{\"name\": \"ok-name\", \"role\": true}",
        "{\"name\": \"ok-name\", \"role\": \"" + CANARY + "\"}", // not a role
        "{\"name\": \"ok-name\", \"role\": \"auditor\", \"extra\": \"" + CANARY + "\"}", // unknown field
        "{\"name\": \"ok-name\", \"role\": \"auditor\", \"name\": \"other\"}", // duplicate key
        "{\"role\": \"auditor\"}", // missing name
        "{\"name\": \"ok-name\"}", // missing role
        "{\"name\": \"   \", \"role\": \"auditor\"}", // blank
        "{\"name\": null, \"role\": \"auditor\"}",
        "{\"name\": \"../../etc/passwd\", \"role\": \"auditor\"}", // traversal
        "{\"name\": \"UPPER\", \"role\": \"auditor\"}",
        "{\"name\": \"line\\nbreak\", \"role\": \"auditor\"}", // newline injection
        "{\"name\": \"nul\\u0000byte\", \"role\": \"auditor\"}",
    })
    void badPrincipalBodiesAreRefusedAndChangeNothing(String body) {
        int before = principalCount();
        String response = problem(as(adminToken()).contentType(ContentType.JSON).body(body)
                .post("/api/v1/principals").then(), 400, "invalid-request");
        assertThat(response).doesNotContain(CANARY);
        assertThat(principalCount()).isEqualTo(before);
    }

    @Test
    void emptyBodyIsRefused() {
        problem(as(adminToken()).contentType(ContentType.JSON).post("/api/v1/principals").then(), 400, "invalid-request");
    }

    @Test
    void deeplyNestedBodyIsRefused() {
        String nested = "[".repeat(5000) + "]".repeat(5000);
        problem(as(adminToken()).contentType(ContentType.JSON).body("{\"name\": " + nested + "}")
                .post("/api/v1/principals").then(), 400, "invalid-request");
    }

    @Test
    void hugeBodyIsTooLarge() {
        int before = principalCount();
        String huge = "{\"name\": \"" + "a".repeat(200_000) + "\", \"role\": \"auditor\"}";
        problem(as(adminToken()).contentType(ContentType.JSON).body(huge).post("/api/v1/principals").then(),
                413, "too-large");
        assertThat(principalCount()).isEqualTo(before);
    }

    @Test
    void wrongContentTypeIsUnsupported() {
        problem(as(adminToken()).contentType(ContentType.TEXT).body("name=x")
                .post("/api/v1/principals").then(), 415, "unsupported-media-type");
    }

    @Test
    void aTokenRequestThatIsNotJsonIsUnsupportedNotAServerError() {
        // Found by FuzzTest: without @Consumes this was a 500 (the text was "converted" to the record).
        as(adminToken()).contentType("text/plain").body("{\"ttl\":\"PT1H\"}")
                .post("/api/v1/principals/bootstrap-admin/tokens").then().statusCode(415)
                .contentType("application/problem+json");
    }

    @Test
    void aTokenRequestWithoutABodyGetsTheDefaultLifetime() {
        // `curl -X POST …/tokens` sends neither a body nor a content type: still the documented default.
        as(adminToken()).post("/api/v1/principals/bootstrap-admin/tokens").then().statusCode(201);
    }

    @Test
    void anInvertedExportRangeIsRefused() {
        // Found by FuzzTest: an empty export of an impossible range looked like "nothing happened".
        as(adminToken()).queryParam("from", "2026-01-02T00:00:00Z").queryParam("to", "2026-01-01T00:00:00Z")
                .get("/api/v1/audit/export").then().statusCode(400).body("code", equalTo("invalid-request"));
    }

    @Test
    void unknownPathIsNotFoundProblem() {
        problem(as(adminToken()).get("/api/v1/no-such-thing").then(), 404, "not-found");
        problem(given().get("/nothing-here").then(), 404, "not-found");
    }

    @Test
    void wrongMethodIsMethodNotAllowed() {
        problem(as(adminToken()).put("/api/v1/principals").then(), 405, "method-not-allowed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"PT0S", "-PT5S", "P1M", "soon", "PT0.5S"})
    void invalidTokenLifetimeIsRefused(String ttl) {
        String name = createAuditor();
        problem(as(adminToken()).contentType(ContentType.JSON).body(Map.of("ttl", ttl))
                .post("/api/v1/principals/" + name + "/tokens").then(), 400, "invalid-request");
        as(adminToken()).get("/api/v1/principals/" + name + "/tokens").then().body("size()", equalTo(0));
    }

    @Test
    void tokenLifetimeBeyondTheMaximumIsAPolicyViolation() {
        String name = createAuditor();
        problem(as(adminToken()).contentType(ContentType.JSON).body(Map.of("ttl", "P400D"))
                .post("/api/v1/principals/" + name + "/tokens").then(), 422, "policy-violation");
        as(adminToken()).get("/api/v1/principals/" + name + "/tokens").then().body("size()", equalTo(0));
    }

    @Test
    void tokenLifetimeOfTheWrongTypeIsRefused() {
        String name = createAuditor();
        problem(as(adminToken()).contentType(ContentType.JSON).body("{\"ttl\": 3600}")
                .post("/api/v1/principals/" + name + "/tokens").then(), 400, "invalid-request");
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "UPPER", "a%0Ab", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
    void badPathParametersAreRefused(String param) {
        int status = as(adminToken()).urlEncodingEnabled(false).get("/api/v1/principals/" + param).then()
                .extract().statusCode();
        assertThat(status).isBetween(400, 404);
        problem(as(adminToken()).delete("/api/v1/tokens/not-hex").then(), 400, "invalid-request");
        problem(as(adminToken()).get("/api/v1/environments/Prod_1").then(), 400, "invalid-request");
    }

    @Test
    void unknownEnvironmentIsNotFound() {
        problem(as(adminToken()).get("/api/v1/environments/nowhere").then(), 404, "not-found");
    }

    private static String createAuditor() {
        String name = Api.uniqueName("ttl");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "auditor"))
                .post("/api/v1/principals").then().statusCode(201);
        return name;
    }

    private static int principalCount() {
        List<?> all = as(adminToken()).get("/api/v1/principals").then().statusCode(200).extract().as(List.class);
        return all.size();
    }

    /** Asserts a problem response and that it leaks no internals; returns the body. */
    static String problem(ValidatableResponse response, int status, String code) {
        String body = response.statusCode(status)
                .contentType("application/problem+json")
                .body("status", equalTo(status))
                .body("code", equalTo(code))
                .body("type", equalTo("urn:ltc-secrets:problem:" + code))
                .extract().asString();
        assertThat(body).doesNotContain("Exception").doesNotContain("at org.").doesNotContain("at io.")
                .doesNotContain("jackson").doesNotContain("java.");
        return body;
    }
}
