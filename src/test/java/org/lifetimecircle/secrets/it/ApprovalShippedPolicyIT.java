package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * Issue 23's "done when", against the packaged jar with the shipped {@code policies/environments/prod.yaml}
 * (approvals: grants): a deployer's prod env-file:read grant requested by one security engineer takes effect
 * only after a second person approves, all of it audited; a request survives a restart, and a request made
 * under a policy that changed meanwhile cannot be approved.
 */
class ApprovalShippedPolicyIT {

    @TempDir
    Path tmp;
    private int starts;

    @Test
    void aProdGrantTakesEffectOnlyAfterASecondPersonApproves() throws Exception {
        Path policy = tmp.resolve("policies/environments/prod.yaml");
        Files.createDirectories(policy.getParent());
        Files.copy(Path.of("policies/environments/prod.yaml"), policy);
        String engineer1;
        String engineer2;
        String pendingId;
        try (ServiceProcess service = start()) {
            String boot = Files.readString(tmp.resolve("data/bootstrap-admin.token")).trim();
            engineer1 = principal(service, boot, "sec-eng-1", "security-engineer");
            engineer2 = principal(service, boot, "sec-eng-2", "security-engineer");
            String deployer = principal(service, boot, "deploy-bot", "deployer");

            Response asked = grant(service, engineer1, "env-file:read");
            assertThat(asked.statusCode()).as(asked.asString()).isEqualTo(202);
            String id = asked.jsonPath().getString("approval.id");
            assertThat(fetch(service, deployer)).as("nothing is granted while it waits").isEqualTo(403);
            assertThat(decide(service, engineer1, id).statusCode()).as("nobody approves its own request")
                    .isEqualTo(403);
            assertThat(fetch(service, deployer)).isEqualTo(403);
            Response approved = decide(service, engineer2, id);
            assertThat(approved.statusCode()).as(approved.asString()).isEqualTo(200);
            assertThat(fetch(service, deployer)).isEqualTo(200);
            assertThat(as(service, deployer).get("/api/v1/environments/prod/env-file").asString())
                    .contains("LTC_SECRET_KEY=");

            // All of it audited, and the chain verifies.
            List<String> actions = as(service, boot).get("/api/v1/audit/events?limit=1000").then().statusCode(200)
                    .extract().jsonPath().getList("action");
            assertThat(actions).containsSubsequence("approval.request", "approval.approve", "envfile.read");
            assertThat(as(service, boot).get("/api/v1/audit/verify").then().statusCode(200).extract().jsonPath()
                    .getBoolean("valid")).isTrue();

            pendingId = grant(service, engineer1, "env-file:write").then().statusCode(202).extract().path("approval.id");
        }

        // The policy changes while a request waits: after the restart the request is still there, still
        // PENDING, and cannot be approved under a policy it was not judged under.
        Files.writeString(policy, Files.readString(policy).replace("expireAfter: PT24H", "expireAfter: PT12H"));
        try (ServiceProcess service = start()) {
            assertThat(as(service, engineer2).get("/api/v1/approvals/" + pendingId).then().statusCode(200).extract()
                    .jsonPath().getString("status")).isEqualTo("PENDING");
            Response stale = decide(service, engineer2, pendingId);
            assertThat(stale.statusCode()).as(stale.asString()).isEqualTo(409);
            assertThat(stale.jsonPath().getString("detail")).contains("policy").contains("changed");
        }
    }

    private ServiceProcess start() throws IOException {
        return ServiceProcess.dev(tmp, tmp.resolve("data"), tmp.resolve("policies"), tmp.resolve("data/root"))
                .log(tmp.resolve("service-" + (++starts) + ".log"))
                .startHealthy(ServiceProcess.START_DEADLINE);
    }

    private static String principal(ServiceProcess service, String admin, String name, String role) {
        as(service, admin).contentType(ContentType.JSON).body(Map.of("name", name, "role", role))
                .post("/api/v1/principals").then().statusCode(201);
        return as(service, admin).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
    }

    private static Response grant(ServiceProcess service, String token, String permission) {
        return as(service, token).contentType(ContentType.JSON).body(Map.of("principal", "deploy-bot",
                "environment", "prod", "permission", permission, "ttl", "PT1H", "reason", "deploy CHG-2301"))
                .post("/api/v1/grants");
    }

    private static Response decide(ServiceProcess service, String token, String id) {
        return as(service, token).contentType(ContentType.JSON).body(Map.of("reason", "checked CHG-2301"))
                .post("/api/v1/approvals/" + id + "/approve");
    }

    private static int fetch(ServiceProcess service, String token) {
        return as(service, token).get("/api/v1/environments/prod/env-file").statusCode();
    }
}
