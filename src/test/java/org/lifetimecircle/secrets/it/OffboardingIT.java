package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.BlackBoxHttp.delete;
import static org.lifetimecircle.secrets.testing.BlackBoxHttp.get;
import static org.lifetimecircle.secrets.testing.BlackBoxHttp.post;

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
import org.lifetimecircle.secrets.testing.BlackBoxHttp.Reply;
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
            assertThat(post(service, boot, "/api/v1/grants", Map.of("principal", "deploy-bot", "environment", "prod",
                    "permission", "env-file:read", "ttl", "PT1H", "reason", "offboarding it")).status()).isEqualTo(201);
            assertThat(lastUsedAt(service, boot, "deploy-bot", deployTokenId)).isNull();

            assertThat(get(service, deployToken, "/api/v1/environments/prod/env-file").status()).isEqualTo(200);
            used = lastUsedAt(service, boot, "deploy-bot", deployTokenId);
            assertThat(used).isNotNull();
            // The right id with the wrong secret is no use of the token.
            Reply forged = get(service, "ltcs_" + deployTokenId + "_" + "A".repeat(43), "/api/v1/environments");
            assertThat(forged.status()).isEqualTo(401);
            assertThat(lastUsedAt(service, boot, "deploy-bot", deployTokenId)).isEqualTo(used);

            // The go-live step: a personal admin retires the bootstrap admin.
            assertThat(delete(service, alice, "/api/v1/principals/bootstrap-admin?reason=go-live%20CHG-1000").status())
                    .isEqualTo(204);
            assertThat(get(service, boot, "/api/v1/principals").status()).isEqualTo(401);
            Reply self = delete(service, alice, "/api/v1/principals/alice?reason=leaving");
            assertThat(self.status()).as(self.text()).isEqualTo(409);
            assertThat(self.json().getString("code")).isEqualTo("conflict");
            service.kill(); // SIGKILL: only what was committed before the answers survives
        }

        try (ServiceProcess service = start()) {
            assertThat(lastUsedAt(service, alice, "deploy-bot", deployTokenId)).as("lastUsedAt after kill -9")
                    .isEqualTo(used);
            assertThat(get(service, deployToken, "/api/v1/environments/prod/env-file").status()).isEqualTo(200);
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
                List<Reply> replies = race(
                        () -> delete(service, mine, "/api/v1/principals/" + otherName + "?reason=race"),
                        () -> delete(service, other, "/api/v1/principals/" + myName + "?reason=race"));
                List<Integer> statuses = replies.stream().map(Reply::status).toList();
                assertThat(statuses).as("round %d: %s / %s", round, replies.get(0).text(), replies.get(1).text())
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
            Reply last = delete(service, survivor, "/api/v1/principals/" + survivorName + "?reason=x");
            assertThat(last.status()).isEqualTo(409);
            service.kill();
        }

        try (ServiceProcess service = start()) {
            assertThat(enabledAdmins(service, survivor)).as("after a restart").containsExactly(survivorName);
        }
    }

    private static List<Reply> race(Callable<Reply> a, Callable<Reply> b) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Reply>> futures = new ArrayList<>(List.of(pool.submit(a), pool.submit(b)));
            List<Reply> out = new ArrayList<>();
            for (Future<Reply> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<String> enabledAdmins(ServiceProcess service, String token) throws Exception {
        Reply r = get(service, token, "/api/v1/principals");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        List<Map<String, Object>> all = r.json().getList("$");
        return all.stream().filter(p -> "admin".equals(p.get("role")) && Boolean.TRUE.equals(p.get("enabled")))
                .map(p -> (String) p.get("name")).toList();
    }

    private static String principalWithToken(ServiceProcess service, String admin, String name, String role)
            throws Exception {
        Reply created = post(service, admin, "/api/v1/principals", Map.of("name", name, "role", role));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        Reply token = post(service, admin, "/api/v1/principals/" + name + "/tokens", Map.of("ttl", "PT1H"));
        assertThat(token.status()).as(token.text()).isEqualTo(201);
        return token.json().getString("token");
    }

    private static Instant lastUsedAt(ServiceProcess service, String admin, String principal, String tokenId)
            throws Exception {
        Reply r = get(service, admin, "/api/v1/principals/" + principal + "/tokens");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        List<Map<String, Object>> tokens = r.json().getList("$");
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
