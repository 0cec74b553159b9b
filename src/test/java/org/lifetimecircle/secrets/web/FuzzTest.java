package org.lifetimecircle.secrets.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Seeded fuzzing of every endpoint that takes input: bodies mutated so that each is certainly
 * invalid (truncated JSON, wrong types, unknown fields, control characters and newlines in strings,
 * huge and deeply nested bodies, non-objects, wrong content types), and path and query parameters
 * with traversal, control characters and garbage. Every answer must be a 4xx problem (never 5xx),
 * nothing but the audit trail may change, and the service must stay healthy. The seed is printed;
 * rerun one with {@code -Dfuzz.seed=… -Dfuzz.rounds=…}.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class FuzzTest {

    private static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());
    private static final int ROUNDS = Integer.getInteger("fuzz.rounds", 12);
    private static final String ENV = "preflight-min";
    private static final String SECRET = "LTC_SECRET_KEY";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Tables whose content a refused request must leave alone (audit_event records the refusals). */
    private static final List<String> STATE = List.of("principal", "api_token", "access_grant", "secret_version",
            "rotation", "rotation_step", "emergency_secret", "env_file_state", "secret_due_state", "audit_checkpoint",
            "installation_key", "audit_anchor", "approval");

    /** {@code optionalBody}: no body (or JSON null) means "the defaults", so those are valid there. */
    private record Target(String path, Map<String, Object> body, boolean optionalBody) {
        Target(String path, Map<String, Object> body) {
            this(path, body, false);
        }
    }

    private static List<Target> bodies(String principal, String approval) {
        String value = "fuzzImportValue_" + "x".repeat(60);
        return List.of(
                // two-person approval: a grant and a rotation that would wait, and the decisions on a pending one
                new Target("/api/v1/grants", Map.of("principal", principal, "environment", "approved",
                        "permission", "env-file:read", "ttl", "PT1H", "reason", "fuzz")),
                new Target("/api/v1/environments/approved/secrets/" + SECRET + "/rotations", Map.of("reason", "fuzz")),
                new Target("/api/v1/approvals/" + approval + "/approve", Map.of("reason", "fuzz")),
                new Target("/api/v1/approvals/" + approval + "/deny", Map.of("reason", "fuzz")),
                new Target("/api/v1/incidents/INC-1/review", Map.of("reason", "fuzz")),
                new Target("/api/v1/principals", Map.of("name", "fuzz-new", "role", "auditor")),
                new Target("/api/v1/principals/" + principal + "/tokens", Map.of("ttl", "PT1H"), true),
                new Target("/api/v1/grants", Map.of("principal", principal, "environment", ENV,
                        "permission", "env-file:read", "ttl", "PT1H", "reason", "fuzz")),
                new Target("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/rotations", Map.of("reason", "fuzz")),
                new Target("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/rollback", Map.of("reason", "fuzz")),
                new Target("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/import",
                        Map.of("value", value, "reason", "fuzz")),
                new Target("/api/v1/environments/" + ENV + "/emergency-rotations",
                        Map.of("reason", "fuzz", "incident", "INC-1")),
                // Valid, it archives nothing (nothing is that old): every mutation must be refused.
                new Target("/api/v1/audit/archive", Map.of("before", "2000-01-01T00:00:00Z", "reason", "fuzz")),
                // Valid, it releases nothing (no restore's hold is in force).
                new Target("/api/v1/admin/env-file-hold/release", Map.of("reason", "fuzz")));
    }

    /** Query strings that are each invalid for their endpoint. */
    private static final List<String> BAD_QUERIES = List.of(
            "/api/v1/grants?limit=0", "/api/v1/grants?limit=1001", "/api/v1/grants?limit=abc", "/api/v1/grants?active=yes",
            "/api/v1/grants?environment=../prod", "/api/v1/rotations?kind=WEEKLY", "/api/v1/rotations?status=done",
            "/api/v1/rotations?limit=-5", "/api/v1/rotations?environment=PROD", "/api/v1/audit/events?after=x",
            "/api/v1/audit/events?limit=100000", "/api/v1/audit/events?after=-1", "/api/v1/audit/export?format=xml",
            "/api/v1/audit/export?from=yesterday", "/api/v1/audit/export?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            "/api/v1/access-review?from=2026-13-01T00:00:00Z", "/api/v1/access-review?permission=root",
            "/api/v1/incidents?limit=0", "/api/v1/incidents?environment=a%0Ab",
            "/api/v1/approvals?status=done", "/api/v1/approvals?environment=..%2Fprod", "/api/v1/approvals?limit=0",
            "/api/v1/approvals/not-an-id", "/api/v1/approvals/..%2F..%2Fetc", "/api/v1/approvals/0123456789ABCDEF",
            "/api/v1/grants/not-an-id", "/api/v1/rotations/..%2F..%2Fetc", "/api/v1/principals/..%2Fbootstrap-admin",
            "/api/v1/environments/..%2Fprod", "/api/v1/environments/prod%00", "/api/v1/environments/%2e%2e",
            "/api/v1/environments/" + "a".repeat(300), "/api/v1/environments/" + ENV + "/secrets/..%2FX/versions",
            "/api/v1/environments/" + ENV + "/secrets/lower_case/versions");

    @Test
    void everyMalformedRequestIsA4xxProblemAndChangesNothing() throws Exception {
        Random random = new Random(SEED);
        System.out.println("[fuzz] seed " + SEED + ", " + ROUNDS + " rounds per target (-Dfuzz.seed to repeat)");
        String principal = principal();
        grant("secret:rotate");
        grant("env-file:read"); // an import needs it too; without it every import body would be a 403
        // A pending request by another admin, which every mutated decision must leave PENDING.
        String approval = pendingApproval(principal);
        Rotations.awaitIdle(adminToken(), ENV);
        Map<String, String> before = state();

        List<String> failures = new ArrayList<>();
        int sent = 0;
        for (Target t : bodies(principal, approval)) {
            for (int round = 0; round < ROUNDS; round++) {
                Mutation m = mutate(t.body(), t.optionalBody(), random);
                RequestSpecification req = as(adminToken()).contentType(m.contentType()).body(m.body());
                check(failures, "POST " + t.path() + " [" + m.kind() + "]", req.post(t.path()));
                sent++;
            }
        }
        for (String q : BAD_QUERIES) {
            check(failures, "GET " + q, as(adminToken()).urlEncodingEnabled(false).get(q));
            sent++;
        }
        for (String bad : List.of("..%2F..%2Fetc%2Fpasswd", "%00", "a%0Ab", "x".repeat(200), "%E2%80%A8")) {
            check(failures, "DELETE /tokens/" + bad, as(adminToken()).urlEncodingEnabled(false)
                    .delete("/api/v1/tokens/" + bad));
            check(failures, "DELETE /grants/" + bad, as(adminToken()).urlEncodingEnabled(false)
                    .delete("/api/v1/grants/" + bad + "?reason=fuzz"));
            check(failures, "DELETE /principals/" + bad, as(adminToken()).urlEncodingEnabled(false)
                    .delete("/api/v1/principals/" + bad + "?reason=fuzz"));
            sent += 3;
        }
        // An existing principal with a reason that is missing, blank, too long or more than one line.
        for (String reason : List.of("", "?reason=", "?reason=%20%20", "?reason=" + "r".repeat(501),
                "?reason=a%0Aseq%3D1", "?reason=a%0D", "?reason=a%E2%80%A8b", "?reason=a%00b")) {
            check(failures, "DELETE /principals/" + principal + reason, as(adminToken()).urlEncodingEnabled(false)
                    .delete("/api/v1/principals/" + principal + reason));
            sent++;
        }
        // A well-formed id with a reason carrying a line break: refused, not a forged audit line.
        check(failures, "DELETE /grants with newline reason", as(adminToken()).urlEncodingEnabled(false)
                .delete("/api/v1/grants/0123456789abcdef?reason=a%0Aseq%3D1"));
        sent++;

        assertThat(failures).as("requests answered with something other than a 4xx problem (seed " + SEED + ")")
                .isEmpty();
        Rotations.awaitIdle(adminToken(), ENV);
        assertThat(state()).as("state after " + sent + " refused requests (seed " + SEED + ")").isEqualTo(before);
        RestAssured.get("/health").then().statusCode(200);
    }

    private record Mutation(String kind, String contentType, byte[] body) {
    }

    /** One certainly-invalid variant of {@code valid}. */
    private static Mutation mutate(Map<String, Object> valid, boolean optionalBody, Random random) throws Exception {
        String json = JSON.writeValueAsString(valid);
        List<String> keys = new ArrayList<>(valid.keySet());
        String key = keys.get(random.nextInt(keys.size()));
        Map<String, Object> copy = new LinkedHashMap<>(valid);
        switch (random.nextInt(10)) {
            case 0 -> {
                return utf8("truncated", json.substring(0, 1 + random.nextInt(json.length() - 1)));
            }
            case 1 -> {
                Object[] wrong = {42, -1.5, true, List.of("a"), Map.of("x", 1)};
                copy.put(key, wrong[random.nextInt(wrong.length)]);
                return utf8("wrong type of " + key, JSON.writeValueAsString(copy));
            }
            case 2 -> {
                copy.put("unexpected" + random.nextInt(1000), "x");
                return utf8("unknown field", JSON.writeValueAsString(copy));
            }
            case 3 -> {
                String[] bad = {"\n", "\r\n", "\u0000", "\u001b[31m", "\u2028", "\t"};
                String v = String.valueOf(copy.get(key));
                int at = random.nextInt(v.length() + 1);
                copy.put(key, v.substring(0, at) + bad[random.nextInt(bad.length)] + "INJECTED=1" + v.substring(at));
                return utf8("control character in " + key, JSON.writeValueAsString(copy));
            }
            case 4 -> {
                copy.put(key, "y".repeat(70_000 + random.nextInt(10_000)));
                return utf8("huge " + key, JSON.writeValueAsString(copy));
            }
            case 5 -> {
                int depth = 33 + random.nextInt(5000);
                return utf8("nested " + depth, "[".repeat(depth) + "]".repeat(depth));
            }
            case 6 -> {
                List<String> notObjects = new ArrayList<>(List.of("[]", "\"text\"", "123", "{}{}",
                        "{\"reason\":\"a\",\"reason\":\"b\"}", "{\"ttl\":\"PT1H\",\"ttl\":\"PT2H\"}"));
                if (!optionalBody) {
                    notObjects.addAll(List.of("null", ""));
                }
                return utf8("not one object", notObjects.get(random.nextInt(notObjects.size())));
            }
            case 7 -> {
                String[] types = {"text/plain", "application/xml", "text/csv"};
                return new Mutation("content type", types[random.nextInt(types.length)],
                        json.getBytes(StandardCharsets.UTF_8));
            }
            case 8 -> {
                copy.remove(key);
                copy.put(key.toUpperCase(java.util.Locale.ROOT) + "_", copy.getOrDefault(key, "x"));
                return utf8("renamed " + key, JSON.writeValueAsString(copy));
            }
            default -> {
                byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
                bytes[random.nextInt(bytes.length)] = (byte) (0x80 + random.nextInt(0x40)); // invalid UTF-8
                return new Mutation("invalid UTF-8", "application/json", bytes);
            }
        }
    }

    private static Mutation utf8(String kind, String body) {
        return new Mutation(kind, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    private static void check(List<String> failures, String what, Response r) {
        int status = r.statusCode();
        String type = r.contentType();
        boolean problem = type != null && type.startsWith("application/problem+json")
                && r.jsonPath().getString("code") != null;
        if (status < 400 || status >= 500 || !problem) {
            failures.add(what + " -> " + status + " " + type);
        }
    }

    private static String principal() {
        String name = "fuzz-target";
        as(adminToken()).contentType("application/json").body(Map.of("name", name, "role", "deployer"))
                .post("/api/v1/principals").then().statusCode(org.hamcrest.Matchers.anyOf(
                        org.hamcrest.Matchers.is(201), org.hamcrest.Matchers.is(409)));
        return name;
    }

    private static String pendingApproval(String grantee) {
        String requester = Api.uniqueName("fuzz-requester");
        as(adminToken()).contentType("application/json").body(Map.of("name", requester, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(201);
        String token = as(adminToken()).contentType("application/json").body("{}")
                .post("/api/v1/principals/" + requester + "/tokens").then().statusCode(201).extract().path("token");
        return as(token).contentType("application/json").body(Map.of("principal", grantee, "environment", "approved",
                        "permission", "env-file:read", "ttl", "PT1H", "reason", "fuzz test"))
                .post("/api/v1/grants").then().statusCode(202).extract().path("approval.id");
    }

    private static void grant(String permission) {
        as(adminToken()).contentType("application/json").body(Map.of("principal", "bootstrap-admin",
                        "environment", ENV, "permission", permission, "ttl", "PT1H", "reason", "fuzz test"))
                .post("/api/v1/grants").then().statusCode(201);
    }

    /** A digest of each state table and of the environment's env file, by name. */
    private static Map<String, String> state() throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        try (Connection c = Db.open(); Statement st = c.createStatement()) {
            for (String table : STATE) {
                MessageDigest digest = MessageDigest.getInstance("SHA-256");
                try (ResultSet rs = st.executeQuery("select * from " + table + " order by 1")) {
                    int columns = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        for (int i = 1; i <= columns; i++) {
                            // A refused request was still authenticated by its token: like the audit
                            // trail, the token's last use records it.
                            if (table.equals("api_token")
                                    && rs.getMetaData().getColumnName(i).equalsIgnoreCase("last_used_at")) {
                                continue;
                            }
                            Object v = rs.getObject(i);
                            digest.update(v instanceof byte[] blob ? blob
                                    : String.valueOf(v).getBytes(StandardCharsets.UTF_8));
                            digest.update((byte) 0);
                        }
                    }
                }
                out.put(table, HexFormat.of().formatHex(digest.digest()));
            }
        }
        Path file = TestDataDir.fileRoot().resolve("etc/lifetimecircle/" + ENV + ".env");
        out.put("env file", Files.exists(file)
                ? HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))) : "none");
        return out;
    }
}
