package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * Offboarding against the packaged jar on a fresh installation, where the admins are exactly the
 * ones this test makes: a token's last use survives kill -9 (it commits with the request's audit
 * event, before the response), the bootstrap admin can be retired by a personal admin, nobody
 * disables itself, and two admins disabling each other at the same moment never leave none.
 */
class OffboardingIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path tmp;
    private int starts;

    @Test
    void lastUseSurvivesAKillAndTheLastAdminIsNeverDisabled() throws Exception {
        String alice;
        String deployToken;
        String deployTokenId;
        Instant used;
        String survivor;
        String survivorName;
        try (ServiceProcess service = start()) {
            String boot = Files.readString(tmp.resolve("data/bootstrap-admin.token")).trim();
            alice = principalWithToken(service, boot, "alice", "admin");
            deployToken = principalWithToken(service, boot, "deploy-bot", "deployer");
            deployTokenId = deployToken.substring(5, 21);
            assertThat(as(service, boot).contentType(ContentType.JSON)
                    .body(Map.of("principal", "deploy-bot", "environment", "prod",
                    "permission", "env-file:read", "ttl", "PT1H", "reason", "offboarding it"))
                    .post("/api/v1/grants").statusCode())
                    .isEqualTo(201);
            assertThat(lastUsedAt(service, boot, "deploy-bot", deployTokenId)).isNull();

            assertThat(as(service, deployToken).get("/api/v1/environments/prod/env-file").statusCode()).isEqualTo(200);
            used = lastUsedAt(service, boot, "deploy-bot", deployTokenId);
            assertThat(used).isNotNull();
            // The right id with the wrong secret is no use of the token.
            Response forged = as(service, "ltcs_" + deployTokenId + "_" + "A".repeat(43)).get("/api/v1/environments");
            assertThat(forged.statusCode()).isEqualTo(401);
            assertThat(lastUsedAt(service, boot, "deploy-bot", deployTokenId)).isEqualTo(used);

            // The go-live step: a personal admin retires the bootstrap admin.
            assertThat(as(service, alice).urlEncodingEnabled(false)
                    .delete("/api/v1/principals/bootstrap-admin?reason=go-live%20CHG-1000").statusCode())
                    .isEqualTo(204);
            assertThat(as(service, boot).get("/api/v1/principals").statusCode()).isEqualTo(401);
            Response self = as(service, alice).delete("/api/v1/principals/alice?reason=leaving");
            assertThat(self.statusCode()).as(self.asString()).isEqualTo(409);
            assertThat(self.jsonPath().getString("code")).isEqualTo("conflict");
            service.kill(); // SIGKILL: only what was committed before the answers survives
        }

        try (ServiceProcess service = start()) {
            assertThat(lastUsedAt(service, alice, "deploy-bot", deployTokenId)).as("lastUsedAt after kill -9")
                    .isEqualTo(used);
            assertThat(as(service, deployToken).get("/api/v1/environments/prod/env-file").statusCode()).isEqualTo(200);
            assertThat(lastUsedAt(service, alice, "deploy-bot", deployTokenId)).isAfterOrEqualTo(used);

            // Two admins, nobody else: each tries to disable the other at the same moment, several times.
            survivor = alice;
            survivorName = "alice";
            int conflicts = 0;
            for (int round = 1; round <= 5; round++) {
                String otherName = "admin-" + round;
                String other = principalWithToken(service, survivor, otherName, "admin");
                String mine = survivor;
                String myName = survivorName;
                List<Response> replies = race(
                        () -> as(service, mine).delete("/api/v1/principals/" + otherName + "?reason=race"),
                        () -> as(service, other).delete("/api/v1/principals/" + myName + "?reason=race"));
                List<Integer> statuses = replies.stream().map(Response::statusCode).toList();
                assertThat(statuses)
                        .as("round %d: %s / %s", round, replies.get(0).asString(), replies.get(1).asString())
                        .containsOnlyOnce(204).containsAnyOf(409, 401);
                if (statuses.contains(409)) {
                    conflicts++;
                }
                boolean survivorWon = statuses.get(0) == 204;
                if (!survivorWon) {
                    survivor = other;
                    survivorName = otherName;
                }
                assertThat(enabledAdmins(service, survivor)).as("round %d", round).containsExactly(survivorName);
            }
            System.out.printf("[offboarding-it] 5 races, %d refused by the last-admin rule, the rest by 401%n",
                    conflicts);
            Response last = as(service, survivor).delete("/api/v1/principals/" + survivorName + "?reason=x");
            assertThat(last.statusCode()).isEqualTo(409);
            service.kill();
        }

        try (ServiceProcess service = start()) {
            assertThat(enabledAdmins(service, survivor)).as("after a restart").containsExactly(survivorName);
        }
    }

    private static List<Response> race(Callable<Response> a, Callable<Response> b) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Response>> futures = new ArrayList<>(List.of(pool.submit(a), pool.submit(b)));
            List<Response> out = new ArrayList<>();
            for (Future<Response> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<String> enabledAdmins(ServiceProcess service, String token) throws Exception {
        Response r = as(service, token).get("/api/v1/principals");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        List<Map<String, Object>> all = r.jsonPath().getList("$");
        return all.stream().filter(p -> "admin".equals(p.get("role")) && Boolean.TRUE.equals(p.get("enabled")))
                .map(p -> (String) p.get("name")).toList();
    }

    private static String principalWithToken(ServiceProcess service, String admin, String name, String role)
            throws Exception {
        Response created = as(service, admin).contentType(ContentType.JSON).body(Map.of("name", name, "role", role))
                .post("/api/v1/principals");
        assertThat(created.statusCode()).as(created.asString()).isEqualTo(201);
        Response token = as(service, admin).contentType(ContentType.JSON).body(Map.of("ttl", "PT1H"))
                .post("/api/v1/principals/" + name + "/tokens");
        assertThat(token.statusCode()).as(token.asString()).isEqualTo(201);
        return token.jsonPath().getString("token");
    }

    private static Instant lastUsedAt(ServiceProcess service, String admin, String principal, String tokenId)
            throws Exception {
        Response r = as(service, admin).get("/api/v1/principals/" + principal + "/tokens");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        List<Map<String, Object>> tokens = r.jsonPath().getList("$");
        Object at = tokens.stream().filter(t -> tokenId.equals(t.get("id"))).findFirst().orElseThrow()
                .get("lastUsedAt");
        return at == null ? null : Instant.parse((String) at);
    }

    private ServiceProcess start() throws IOException {
        Path policies = tmp.resolve("policies/environments");
        if (!Files.exists(policies)) {
            Files.createDirectories(policies);
            try (Stream<Path> files = Files.list(Path.of("src/test/resources/test-policies/environments"))) {
                for (Path f : files.toList()) {
                    if (Set.of("prod.yaml", "staging.yaml").contains(f.getFileName().toString())) {
                        Files.copy(f, policies.resolve(f.getFileName()));
                    }
                }
            }
        }
        return ServiceProcess.dev(tmp, tmp.resolve("data"), tmp.resolve("policies"), tmp.resolve("data/root"))
                .log(tmp.resolve("service-" + (++starts) + ".log"))
                .startHealthy(START_DEADLINE);
    }
}
