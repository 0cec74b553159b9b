package org.lifetimecircle.secrets.access;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.auth.Permission.AUDIT_READ;
import static org.lifetimecircle.secrets.auth.Permission.ENV_FILE_READ;
import static org.lifetimecircle.secrets.auth.Permission.ENV_FILE_WRITE;
import static org.lifetimecircle.secrets.auth.Permission.GRANT_MANAGE;
import static org.lifetimecircle.secrets.auth.Permission.METADATA_READ;
import static org.lifetimecircle.secrets.auth.Permission.PRINCIPAL_MANAGE;
import static org.lifetimecircle.secrets.auth.Permission.SECRET_ROTATE;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Role;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The authorisation matrix: every {@code /api/v1} endpoint (one row each) is called by every role
 * with no grant, an active grant, an expired grant, a revoked grant and a grant for another
 * environment, and without a valid token; each cell has its expected status. Every refusal must be
 * a problem with the right code; every 403 leaves exactly one {@code auth.denied} event (outcome DENIED),
 * 401s are counted into aggregated ones.
 *
 * <p>{@link #everyApiEndpointHasARow()} compares the rows with the OpenAPI document, so an endpoint
 * added without a row (or a row left behind by a removed endpoint) fails the build: new endpoints
 * must join the matrix.
 *
 * <p>The expectations come from the permission table of {@code docs/api.md} ("Access model", the contract's "Roles and grants"), written out in
 * {@link #CEILING} and {@link #ENVIRONMENT_SCOPED}; they deliberately do not ask {@link Permission}.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class AuthorizationMatrixTest {

    private static final String ENV = "prod";
    private static final String OTHER_ENV = "staging";
    /** A test policy whose grants and rotations wait for a second person. */
    private static final String APPROVALS_ENV = "approved";
    private static final int PAGE = 1000;
    private static final Set<String> HTTP_METHODS = Set.of("get", "put", "post", "delete", "options", "head",
            "patch", "trace");

    /** docs/api.md, "Access model": which roles may hold each permission at all. */
    private static final Map<Permission, Set<Role>> CEILING = new EnumMap<>(Map.of(
            PRINCIPAL_MANAGE, EnumSet.of(Role.ADMIN),
            GRANT_MANAGE, EnumSet.of(Role.ADMIN, Role.SECURITY_ENGINEER),
            METADATA_READ, EnumSet.of(Role.ADMIN, Role.SECURITY_ENGINEER, Role.DEPLOYER, Role.AUDITOR),
            SECRET_ROTATE, EnumSet.of(Role.ADMIN, Role.SECURITY_ENGINEER),
            ENV_FILE_READ, EnumSet.of(Role.ADMIN, Role.DEPLOYER),
            ENV_FILE_WRITE, EnumSet.of(Role.ADMIN, Role.SECURITY_ENGINEER, Role.DEPLOYER),
            AUDIT_READ, EnumSet.of(Role.ADMIN, Role.SECURITY_ENGINEER, Role.AUDITOR)));

    /** API.md: endpoints that need the admin role on top of their permission. */
    private static final Set<String> ADMIN_ONLY = Set.of("POST /api/v1/audit/archive");

    /**
     * API.md, Security rules: endpoints that need a second environment-scoped permission besides their own
     * (an import chooses the key, so it needs env-file:read as well as secret:rotate).
     */
    private static final Map<String, Permission> ALSO_NEEDS = Map.of(
            "POST /api/v1/environments/{env}/secrets/{name}/import", ENV_FILE_READ);

    /** API.md: the permissions that also need an active grant for the {@code {env}} of the request. */
    private static final Set<Permission> ENVIRONMENT_SCOPED = EnumSet.of(SECRET_ROTATE, ENV_FILE_READ, ENV_FILE_WRITE);

    /** The grant a caller holds for the permission of the row, if its role allows that permission. */
    enum Situation {
        NONE, ACTIVE, EXPIRED, REVOKED, OTHER_ENV
    }

    /** A concrete request: path with fixtures filled in, query parameters, JSON body (or none). */
    record Call(String path, Map<String, Object> query, Object body) {
        static Call to(String path) {
            return new Call(path, Map.of(), null);
        }

        Call query(String name, Object value) {
            Map<String, Object> q = new LinkedHashMap<>(query);
            q.put(name, value);
            return new Call(path, q, body);
        }

        Call body(Object json) {
            return new Call(path, query, json);
        }
    }

    /**
     * One endpoint: method and path template exactly as the OpenAPI document shows them, the
     * permission API.md says it needs, its success status, and how to build a request that succeeds
     * for a permitted caller (called afresh for every cell, so mutating rows stay repeatable).
     */
    record Row(String method, String template, Permission permission, int success, Supplier<Call> call) {
        String key() {
            return method + " " + template;
        }
    }

    /** Who calls: a principal with its role and grant situation, or someone without a valid token. */
    record Caller(String label, String principal, Role role, Situation situation, String token) {
    }

    // Fixtures, made through the API by the bootstrap admin before the cells run.
    private static String admin;
    private static String target;
    private static String targetTokenId;
    private static String targetGrantId;
    private static String exportFrom;
    private static String initialRotationId;
    private static String requesterToken;
    private static String approvalId;
    private static String reviewIncident;
    private static final List<Caller> CALLERS = new ArrayList<>();

    // auth.denied events read so far, by request id; the cursor is the highest seq seen.
    private static final Map<String, List<Map<String, Object>>> DENIED = new HashMap<>();
    private static long deniedCursor;
    private static final AtomicInteger REQUESTS = new AtomicInteger();

    /**
     * The table: one row per {@code /api/v1} operation of the OpenAPI document. A new endpoint adds
     * its row here with a request that succeeds for a permitted caller; an endpoint whose rule is
     * more than "role ceiling, plus a grant for {@code {env}} if environment-scoped" (such as
     * {@code POST /audit/archive}: audit:read and the admin role) also extends {@link #expected}.
     */
    static List<Row> rows() {
        return List.of(
                // environments
                new Row("GET", "/api/v1/environments", METADATA_READ, 200,
                        () -> Call.to("/api/v1/environments")),
                new Row("GET", "/api/v1/environments/{env}", METADATA_READ, 200,
                        () -> Call.to("/api/v1/environments/" + ENV)),
                // principals and tokens
                new Row("POST", "/api/v1/principals", PRINCIPAL_MANAGE, 201,
                        () -> Call.to("/api/v1/principals")
                                .body(Map.of("name", Api.uniqueName("mx-new"), "role", "auditor"))),
                new Row("GET", "/api/v1/principals", PRINCIPAL_MANAGE, 200,
                        () -> Call.to("/api/v1/principals")),
                new Row("GET", "/api/v1/principals/{name}", PRINCIPAL_MANAGE, 200,
                        () -> Call.to("/api/v1/principals/" + target)),
                // A fresh principal for every cell: a permitted cell disables it, a refused one must not.
                new Row("DELETE", "/api/v1/principals/{name}", PRINCIPAL_MANAGE, 204,
                        () -> Call.to("/api/v1/principals/" + principal("mx-leaver", Role.DEPLOYER))
                                .query("reason", "authorization matrix")),
                new Row("GET", "/api/v1/principals/{name}/tokens", PRINCIPAL_MANAGE, 200,
                        () -> Call.to("/api/v1/principals/" + target + "/tokens")),
                new Row("POST", "/api/v1/principals/{name}/tokens", PRINCIPAL_MANAGE, 201,
                        () -> Call.to("/api/v1/principals/" + target + "/tokens").body(Map.of())),
                // Revoking twice is a 204 again, so one fixture token serves every cell.
                new Row("DELETE", "/api/v1/tokens/{id}", PRINCIPAL_MANAGE, 204,
                        () -> Call.to("/api/v1/tokens/" + targetTokenId)),
                // grants and access review
                new Row("POST", "/api/v1/grants", GRANT_MANAGE, 201,
                        () -> Call.to("/api/v1/grants").body(grantBody(target, ENV, ENV_FILE_READ, "PT1H"))),
                new Row("GET", "/api/v1/grants", METADATA_READ, 200,
                        () -> Call.to("/api/v1/grants").query("principal", target)),
                new Row("GET", "/api/v1/grants/{id}", METADATA_READ, 200,
                        () -> Call.to("/api/v1/grants/" + targetGrantId)),
                new Row("DELETE", "/api/v1/grants/{id}", GRANT_MANAGE, 204,
                        () -> Call.to("/api/v1/grants/" + targetGrantId).query("reason", "authorization matrix")),
                new Row("GET", "/api/v1/access-review", AUDIT_READ, 200,
                        () -> Call.to("/api/v1/access-review").query("environment", ENV)),
                // audit
                new Row("GET", "/api/v1/audit/events", AUDIT_READ, 200,
                        () -> Call.to("/api/v1/audit/events").query("limit", 1)),
                new Row("GET", "/api/v1/audit/export", AUDIT_READ, 200,
                        () -> Call.to("/api/v1/audit/export").query("format", "jsonl").query("from", exportFrom)),
                new Row("GET", "/api/v1/audit/verify", AUDIT_READ, 200,
                        () -> Call.to("/api/v1/audit/verify")),
                new Row("GET", "/api/v1/audit/checkpoint", AUDIT_READ, 200,
                        () -> Call.to("/api/v1/audit/checkpoint")),
                // Nothing is that old: a permitted cell archives nothing (200 with nulls), so the shared
                // application's trail stays whole for the other tests.
                new Row("POST", "/api/v1/audit/archive", AUDIT_READ, 200,
                        () -> Call.to("/api/v1/audit/archive")
                                .body(Map.of("before", "2000-01-01T00:00:00Z", "reason", "authorization matrix"))),
                // Without a restore's hold a permitted cell changes nothing (200, wasHeld false).
                new Row("POST", "/api/v1/admin/env-file-hold/release", PRINCIPAL_MANAGE, 200,
                        () -> Call.to("/api/v1/admin/env-file-hold/release")
                                .body(Map.of("reason", "authorization matrix"))),
                // secrets, rotations and the env file (environment-scoped rows wait for the secret to be idle, so
                // a permitted cell never meets the 409 of a rotation an earlier cell started)
                new Row("POST", "/api/v1/environments/{env}/secrets/{name}/rotations", SECRET_ROTATE, 202,
                        () -> idle(Call.to(secretPath("/rotations")).body(Map.of("reason", "authorization matrix")))),
                new Row("POST", "/api/v1/environments/{env}/secrets/{name}/rollback", SECRET_ROTATE, 202,
                        () -> withPrevious(Call.to(secretPath("/rollback")).body(Map.of("reason", "authorization matrix")))),
                new Row("POST", "/api/v1/environments/{env}/secrets/{name}/import", SECRET_ROTATE, 202,
                        () -> idle(Call.to(secretPath("/import")).body(Map.of("value", importable(),
                                "reason", "authorization matrix")))),
                new Row("GET", "/api/v1/environments/{env}/secrets/{name}/versions", METADATA_READ, 200,
                        () -> Call.to(secretPath("/versions"))),
                new Row("GET", "/api/v1/rotations", METADATA_READ, 200,
                        () -> Call.to("/api/v1/rotations").query("environment", ENV)),
                new Row("GET", "/api/v1/rotations/{id}", METADATA_READ, 200,
                        () -> Call.to("/api/v1/rotations/" + initialRotationId)),
                new Row("GET", "/api/v1/environments/{env}/env-file", ENV_FILE_READ, 200,
                        () -> Call.to("/api/v1/environments/" + ENV + "/env-file")),
                new Row("POST", "/api/v1/environments/{env}/env-file/write", ENV_FILE_WRITE, 200,
                        () -> Call.to("/api/v1/environments/" + ENV + "/env-file/write")),
                new Row("GET", "/api/v1/incidents", METADATA_READ, 200,
                        () -> Call.to("/api/v1/incidents")),
                // Reviewing a reviewed incident is a 200 again, so one fixture emergency serves every cell.
                new Row("POST", "/api/v1/incidents/{incident}/review", AUDIT_READ, 200,
                        () -> Call.to("/api/v1/incidents/" + reviewIncident + "/review")
                                .body(Map.of("reason", "authorization matrix"))),
                // two-person approval: a fresh request (by a fixture admin no caller is) for every cell
                new Row("GET", "/api/v1/approvals", METADATA_READ, 200,
                        () -> Call.to("/api/v1/approvals").query("environment", APPROVALS_ENV)),
                new Row("GET", "/api/v1/approvals/{id}", METADATA_READ, 200,
                        () -> Call.to("/api/v1/approvals/" + approvalId)),
                new Row("POST", "/api/v1/approvals/{id}/approve", GRANT_MANAGE, 200,
                        () -> Call.to("/api/v1/approvals/" + pendingApproval() + "/approve")
                                .body(Map.of("reason", "authorization matrix"))),
                new Row("POST", "/api/v1/approvals/{id}/deny", GRANT_MANAGE, 200,
                        () -> Call.to("/api/v1/approvals/" + pendingApproval() + "/deny")
                                .body(Map.of("reason", "authorization matrix"))),
                new Row("GET", "/api/v1/environments/{env}/preflight", METADATA_READ, 200,
                        () -> Call.to("/api/v1/environments/" + ENV + "/preflight")),
                // environment-scoped test-only probes (one per permission, independent of the endpoints above)
                new Row("GET", "/api/v1/test-probe/{env}/rotate", SECRET_ROTATE, 200,
                        () -> Call.to("/api/v1/test-probe/" + ENV + "/rotate")),
                new Row("GET", "/api/v1/test-probe/{env}/read", ENV_FILE_READ, 200,
                        () -> Call.to("/api/v1/test-probe/" + ENV + "/read")),
                new Row("GET", "/api/v1/test-probe/{env}/write", ENV_FILE_WRITE, 200,
                        () -> Call.to("/api/v1/test-probe/" + ENV + "/write")),
                // Last: an emergency revokes every other principal's grants on the environment, so each cell
                // first waits for the previous emergency to finish and gives the ACTIVE callers their grants back.
                new Row("POST", "/api/v1/environments/{env}/emergency-rotations", SECRET_ROTATE, 202,
                        () -> afterEmergency(Call.to("/api/v1/environments/" + ENV + "/emergency-rotations")
                                .body(Map.of("reason", "authorization matrix", "incident", "MX-1")))));
    }

    @Test
    void everyApiEndpointHasARow() {
        assertThat(CEILING.keySet()).as("every permission needs its column of the docs/api.md table in CEILING")
                .containsExactlyInAnyOrder(Permission.values());

        Map<String, Map<String, Object>> paths = given().queryParam("format", "json").get("/q/openapi").then()
                .statusCode(200).extract().jsonPath().getMap("paths");
        Set<String> documented = new TreeSet<>();
        paths.forEach((path, item) -> {
            if (path.startsWith("/api/v1/") || path.equals("/api/v1")) {
                item.keySet().stream().filter(HTTP_METHODS::contains)
                        .forEach(m -> documented.add(m.toUpperCase(Locale.ROOT) + " " + path));
            }
        });
        List<String> keys = rows().stream().map(Row::key).toList();
        Set<String> table = new TreeSet<>(keys);
        assertThat(keys).as("rows of the matrix must be unique").doesNotHaveDuplicates();

        Set<String> withoutRow = new TreeSet<>(documented);
        withoutRow.removeAll(table);
        Set<String> stale = new TreeSet<>(table);
        stale.removeAll(documented);
        assertThat(withoutRow).as("endpoints in the OpenAPI document without a row in AuthorizationMatrixTest.rows(); "
                + "every /api/v1 endpoint must join the authorisation matrix").isEmpty();
        assertThat(stale).as("rows of AuthorizationMatrixTest.rows() for endpoints the OpenAPI document does not have")
                .isEmpty();
    }

    @TestFactory
    Stream<DynamicContainer> authorizationMatrix() {
        setUp();
        List<Caller> callers = List.copyOf(CALLERS);
        return rows().stream().map(row -> DynamicContainer.dynamicContainer(row.key(), callers.stream()
                .map(caller -> DynamicTest.dynamicTest(row.key() + " " + caller.label(), () -> cell(row, caller)))));
    }

    // ---------------------------------------------------------------------------------------------
    // One cell

    static int expected(Row row, Caller caller) {
        if (caller.role() == null) {
            return 401;
        }
        if (!CEILING.get(row.permission()).contains(caller.role())) {
            return 403;
        }
        if (ADMIN_ONLY.contains(row.key()) && caller.role() != Role.ADMIN) {
            return 403;
        }
        Permission also = ALSO_NEEDS.get(row.key());
        if (also != null && !CEILING.get(also).contains(caller.role())) {
            return 403;
        }
        if (ENVIRONMENT_SCOPED.contains(row.permission()) && caller.situation() != Situation.ACTIVE) {
            return 403;
        }
        return row.success();
    }

    static void cell(Row row, Caller caller) {
        int expected = expected(row, caller);
        Call call = row.call().get();
        String requestId = "mx-" + REQUESTS.incrementAndGet() + "-" + Long.toHexString(System.nanoTime());
        RequestSpecification spec = given().header("X-Request-Id", requestId);
        if (caller.token() != null) {
            spec.header("Authorization", "Bearer " + caller.token());
        }
        call.query().forEach(spec::queryParam);
        if (call.body() != null) {
            spec.contentType(ContentType.JSON).body(call.body());
        }
        Response r = spec.request(row.method(), call.path());

        String body = abbreviate(r.asString());
        String where = String.format("%s %s (request %s %s%s, X-Request-Id %s)", row.key(), caller.label(),
                row.method(), call.path(), call.query().isEmpty() ? "" : " " + call.query(), requestId);
        assertThat(r.statusCode())
                .as("%s: expected status %d but got %d; response body: %s", where, expected, r.statusCode(), body)
                .isEqualTo(expected);
        assertThat(r.header("X-Request-Id")).as("%s: X-Request-Id echoed", where).isEqualTo(requestId);
        if (expected != 401 && expected != 403) {
            return;
        }

        String code = expected == 401 ? "unauthorized" : "forbidden";
        assertThat(r.contentType()).as("%s: content type of the refusal; body: %s", where, body)
                .startsWith("application/problem+json");
        assertThat(r.jsonPath().getString("code")).as("%s: problem code; body: %s", where, body).isEqualTo(code);
        assertThat(r.jsonPath().getInt("status")).as("%s: problem status; body: %s", where, body).isEqualTo(expected);
        if (expected == 401) {
            assertThat(r.header("WWW-Authenticate")).as("%s: WWW-Authenticate", where).startsWith("Bearer");
            // 401s are audited in aggregate (one event per source and reason per second, AuthDenials):
            // their events are checked by count in AuthDenialsIT, not one per request here.
            return;
        }

        List<Map<String, Object>> events = deniedEventsOf(requestId);
        assertThat(events).as("%s: auth.denied events with requestId %s", where, requestId).hasSize(1);
        Map<String, Object> event = events.get(0);
        assertThat(event.get("outcome")).as("%s: outcome of %s", where, event).isEqualTo("DENIED");
        assertThat(event.get("actor")).as("%s: actor of %s", where, event)
                .isEqualTo(caller.role() == null ? "anonymous" : caller.principal());
        assertThat(event.get("details")).as("%s: details of %s", where, event).isInstanceOf(Map.class);
        assertThat(((Map<?, ?>) event.get("details")).get("status")).as("%s: details.status of %s", where, event)
                .isEqualTo(expected);
    }

    private static String abbreviate(String s) {
        return s.length() <= 2000 ? s : s.substring(0, 2000) + "… (" + s.length() + " chars)";
    }

    /**
     * The auth.denied events of a request. An event is durable before its response is sent, so one
     * read from the cursor finds it; pages are read while full (never "until empty": reading the
     * trail adds an audit.read event, although not one this filter returns).
     */
    private static List<Map<String, Object>> deniedEventsOf(String requestId) {
        if (!DENIED.containsKey(requestId)) {
            readDeniedEvents();
        }
        return DENIED.getOrDefault(requestId, List.of());
    }

    private static void readDeniedEvents() {
        while (true) {
            List<Map<String, Object>> page = as(admin).queryParam("action", "auth.denied").queryParam("limit", PAGE)
                    .queryParam("after", deniedCursor).get("/api/v1/audit/events").then().statusCode(200)
                    .extract().jsonPath().getList("$");
            for (Map<String, Object> e : page) {
                deniedCursor = Math.max(deniedCursor, ((Number) e.get("seq")).longValue());
                Object id = e.get("requestId");
                if (id != null) {
                    DENIED.computeIfAbsent(id.toString(), k -> new ArrayList<>()).add(e);
                }
            }
            if (page.size() < PAGE) {
                return;
            }
        }
    }

    private static final String SECRET = "LTC_SECRET_KEY";

    private static String secretPath(String suffix) {
        return "/api/v1/environments/" + ENV + "/secrets/" + SECRET + suffix;
    }

    private static Call idle(Call call) {
        Rotations.awaitIdle(admin, ENV);
        return call;
    }

    // A rollback needs a PREVIOUS version; an earlier rollback cell may have used it up.
    private static Call withPrevious(Call call) {
        Rotations.awaitIdle(admin, ENV);
        List<String> states = as(admin).get(secretPath("/versions")).then().statusCode(200).extract().jsonPath()
                .getList("state");
        if (!states.contains("PREVIOUS")) {
            Rotations.rotateAndWait(admin, ENV, SECRET);
        }
        return call;
    }

    private static Call afterEmergency(Call call) {
        Rotations.awaitIdle(admin, ENV);
        grant("bootstrap-admin", ENV, SECRET_ROTATE, "PT2H");
        for (Caller c : CALLERS) {
            if (c.situation() == Situation.ACTIVE) {
                for (Permission p : ENVIRONMENT_SCOPED) {
                    if (CEILING.get(p).contains(c.role())) {
                        grant(c.principal(), ENV, p, "PT2H");
                    }
                }
            }
        }
        return call;
    }

    /** A grant request on the approvals environment, for a fresh deployer, made by the fixture requester. */
    private static String pendingApproval() {
        String grantee = principal("mx-grantee", Role.DEPLOYER);
        return as(requesterToken).contentType(ContentType.JSON)
                .body(grantBody(grantee, APPROVALS_ENV, ENV_FILE_READ, "PT1H")).post("/api/v1/grants").then()
                .statusCode(202).extract().path("approval.id");
    }

    private static String importable() {
        byte[] bytes = new byte[48];
        new java.security.SecureRandom().nextBytes(bytes);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    // ---------------------------------------------------------------------------------------------
    // Fixtures and callers

    private static void setUp() {
        admin = adminToken();
        CALLERS.clear();
        // The bootstrap admin rotates to give rollback cells a PREVIOUS version.
        grant("bootstrap-admin", ENV, SECRET_ROTATE, "PT2H");
        initialRotationId = as(admin).queryParam("environment", ENV).queryParam("kind", "INITIAL")
                .get("/api/v1/rotations").then().statusCode(200).extract().jsonPath().getString("[0].id");

        // The principal the principal, token and grant rows act on.
        target = principal("mx-target", Role.DEPLOYER);
        targetTokenId = as(admin).contentType(ContentType.JSON).body(Map.of())
                .post("/api/v1/principals/" + target + "/tokens").then().statusCode(201).extract().path("id");
        var targetGrant = as(admin).contentType(ContentType.JSON).body(grantBody(target, ENV, ENV_FILE_READ, "PT2H"))
                .post("/api/v1/grants").then().statusCode(201).extract();
        targetGrantId = targetGrant.path("id");
        // The export row exports only this test's part of the trail, from the service's clock (which
        // other tests may have moved ahead of the real one).
        exportFrom = Instant.parse(targetGrant.<String>path("grantedAt")).truncatedTo(ChronoUnit.SECONDS).toString();

        // Two-person approval: an admin no caller is makes the requests; its emergency on the approvals
        // environment (its secret:rotate grant approved by the bootstrap admin) is the incident to review.
        String requester = principal("mx-requester", Role.ADMIN);
        requesterToken = token(requester, Map.of());
        approvalId = pendingApproval();
        String selfGrant = as(requesterToken).contentType(ContentType.JSON)
                .body(grantBody(requester, APPROVALS_ENV, SECRET_ROTATE, "PT2H")).post("/api/v1/grants").then()
                .statusCode(202).extract().path("approval.id");
        as(admin).contentType(ContentType.JSON).body(Map.of("reason", "authorization matrix"))
                .post("/api/v1/approvals/" + selfGrant + "/approve").then().statusCode(200);
        Rotations.awaitIdle(admin, APPROVALS_ENV);
        reviewIncident = "MX-REVIEW-" + Long.toHexString(System.nanoTime());
        String emergency = as(requesterToken).contentType(ContentType.JSON)
                .body(Map.of("reason", "authorization matrix", "incident", reviewIncident))
                .post("/api/v1/environments/" + APPROVALS_ENV + "/emergency-rotations").then().statusCode(202)
                .extract().path("id");
        Rotations.awaitFinished(admin, emergency);

        CALLERS.add(new Caller("without a token", null, null, null, null));
        CALLERS.add(new Caller("with an invalid token", null, null, null,
                "ltcs_0123456789abcdef_" + "A".repeat(43)));

        // An admin holding every grant on prod, so only its dead tokens stand between it and success.
        String deadAdmin = principal("mx-dead-tokens", Role.ADMIN);
        for (Permission p : ENVIRONMENT_SCOPED) {
            grant(deadAdmin, ENV, p, "PT2H");
        }
        String expiringToken = token(deadAdmin, Map.of("ttl", "PT1S"));
        var revoked = as(admin).contentType(ContentType.JSON).body(Map.of())
                .post("/api/v1/principals/" + deadAdmin + "/tokens").then().statusCode(201).extract();
        as(admin).delete("/api/v1/tokens/" + revoked.path("id")).then().statusCode(204);
        CALLERS.add(new Caller("with an expired token", deadAdmin, null, null, expiringToken));
        CALLERS.add(new Caller("with a revoked token", deadAdmin, null, null, revoked.path("token")));

        Map<String, Boolean> grantActive = new LinkedHashMap<>();
        for (Role role : Role.values()) {
            for (Situation situation : Situation.values()) {
                String name = principal("mx-" + role.id() + "-" + situation.name().toLowerCase(Locale.ROOT)
                        .replace('_', '-'), role);
                String token = token(name, Map.of());
                for (Permission p : ENVIRONMENT_SCOPED) {
                    if (!CEILING.get(p).contains(role)) {
                        if (situation == Situation.NONE) {
                            as(admin).contentType(ContentType.JSON).body(grantBody(name, ENV, p, "PT2H"))
                                    .post("/api/v1/grants").then().statusCode(422)
                                    .body("code", equalTo("policy-violation"));
                        }
                        continue;
                    }
                    switch (situation) {
                        case NONE -> {
                        }
                        case ACTIVE -> grantActive.put(grant(name, ENV, p, "PT2H"), true);
                        case EXPIRED -> grantActive.put(grant(name, ENV, p, "PT1S"), false);
                        case REVOKED -> {
                            String id = grant(name, ENV, p, "PT2H");
                            as(admin).queryParam("reason", "authorization matrix: revoked situation")
                                    .delete("/api/v1/grants/" + id).then().statusCode(204);
                            grantActive.put(id, false);
                        }
                        case OTHER_ENV -> grantActive.put(grant(name, OTHER_ENV, p, "PT2H"), true);
                    }
                }
                CALLERS.add(new Caller("as " + role.id() + " with " + situation + " grant", name, role, situation,
                        token));
            }
        }

        // Expire the PT1S grants and token without sleeping; everything else lives for hours.
        TestClock.advance(Duration.ofSeconds(2));

        // The situations are what they claim to be.
        grantActive.forEach((id, active) -> as(admin).get("/api/v1/grants/" + id).then().statusCode(200)
                .body("active", equalTo(active)));

        // Skip the auth.denied events of earlier tests once, so each cell reads only its own.
        readDeniedEvents();
    }

    private static String principal(String stem, Role role) {
        String name = Api.uniqueName(stem);
        as(admin).contentType(ContentType.JSON).body(Map.of("name", name, "role", role.id()))
                .post("/api/v1/principals").then().statusCode(201);
        return name;
    }

    private static String token(String principal, Map<String, Object> body) {
        return as(admin).contentType(ContentType.JSON).body(body)
                .post("/api/v1/principals/" + principal + "/tokens").then().statusCode(201).extract().path("token");
    }

    private static Map<String, Object> grantBody(String principal, String environment, Permission permission,
                                                 String ttl) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("principal", principal);
        b.put("environment", environment);
        b.put("permission", permission.id());
        b.put("ttl", ttl);
        b.put("reason", "authorization matrix");
        return b;
    }

    private static String grant(String principal, String environment, Permission permission, String ttl) {
        return as(admin).contentType(ContentType.JSON).body(grantBody(principal, environment, permission, ttl))
                .post("/api/v1/grants").then().statusCode(201).extract().path("id");
    }
}
