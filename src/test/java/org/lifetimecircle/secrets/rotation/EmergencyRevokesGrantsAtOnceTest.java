package org.lifetimecircle.secrets.rotation;

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
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.StubApp;
import org.lifetimecircle.secrets.testing.TestDataDir;
import org.lifetimecircle.secrets.web.Reason;

/**
 * Security review (issue 18): an emergency revoked the other principals' grants only in its last
 * step, after the file write, the restart and the health check, while the env-file fetch already
 * served the new CURRENT from the database; the principal whose leak caused the emergency could
 * fetch the new key. The grants must fall in the commit that answers 202. The job is held at the
 * environment's lock (where a slow restart or another rotation would keep it), so "still running"
 * is a fact, not a race.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class EmergencyRevokesGrantsAtOnceTest {

    private static final String ENV = "apptest";
    private static final String FILE = "/api/v1/environments/" + ENV + "/env-file";
    private static StubApp app;

    @Inject
    EnvFileService files;

    @Inject
    EmergencyService emergencies;

    @Inject
    EnvironmentRegistry environments;

    @BeforeAll
    static void stubApp() throws Exception {
        app = StubApp.start();
        Files.writeString(TestDataDir.restartScript(), "exit 0\n");
    }

    @AfterAll
    static void stopApp() {
        app.close();
    }

    private record Principal(String name, String token) {
    }

    private static Principal principal(String role) {
        String name = Api.uniqueName(role);
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", role))
                .post("/api/v1/principals").then().statusCode(201);
        String token = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        return new Principal(name, token);
    }

    private static String grant(Principal p, String permission) {
        return as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", p.name(), "environment", ENV,
                        "permission", permission, "ttl", "PT2H", "reason", "emergency grants test"))
                .post("/api/v1/grants").then().statusCode(201).extract().path("id");
    }

    private static boolean active(String grantId) {
        return as(adminToken()).get("/api/v1/grants/" + grantId).then().statusCode(200).extract().path("active");
    }

    private static String status(String caller, String rotationId) {
        return as(caller).get("/api/v1/rotations/" + rotationId).then().statusCode(200).extract().path("status");
    }

    @Test
    void theCommitThatAnswers202AlreadyCutsOffEveryoneButTheCaller() throws Exception {
        Principal caller = principal("admin");
        String callerRotate = grant(caller, "secret:rotate");
        String callerRead = grant(caller, "env-file:read");
        Principal deployer = principal("deployer");
        String deployerRead = grant(deployer, "env-file:read");
        Rotations.awaitIdle(caller.token(), ENV);
        String oldFile = as(deployer.token()).get(FILE).then().statusCode(200).extract().asString();

        ReentrantLock lock = files.lock(ENV);
        lock.lock(); // the job waits here, as behind a slow restart or another rotation
        String id;
        try {
            id = as(caller.token()).contentType(ContentType.JSON)
                    .body(Map.of("reason", "a deployer token leaked", "incident", "INC-EARLY-REVOKE"))
                    .post("/api/v1/environments/" + ENV + "/emergency-rotations").then().statusCode(202)
                    .extract().path("id");
            // The very next request: the leaker is refused, the caller is served the new file.
            as(deployer.token()).get(FILE).then().statusCode(403).body("code", equalTo("forbidden"));
            assertThat(status(caller.token(), id)).as("the emergency is still running").isEqualTo("PENDING");
            String newFile = as(caller.token()).get(FILE).then().statusCode(200).extract().asString();
            assertThat(newFile).isNotEqualTo(oldFile);
            assertThat(active(deployerRead)).isFalse();
            assertThat(active(callerRotate)).isTrue();
            assertThat(active(callerRead)).isTrue();
            assertThat(Db.queryLong("select count(*) from audit_event where action = 'emergency.start' and details like "
                    + "'%\"rotationId\":\"" + id + "\"%' and details like '%\"grantsRevoked\":%'")).isEqualTo(1);
        } finally {
            lock.unlock();
        }
        JsonPath done = Rotations.awaitFinished(caller.token(), id);
        assertThat(done.getString("status")).isEqualTo("COMPLETED");
        // Revoked once, at the start: the steps say so once, the later steps do not change it.
        assertThat(done.getList("steps.name")).containsOnlyOnce("revoke-grants").containsSubsequence("request",
                "pre-empt", "revoke-grants", "revoke-versions", "generate-and-promote", "start", "write-env-file",
                "restart", "health-check", "record-incident", "finish");
        as(deployer.token()).get(FILE).then().statusCode(403);
        as(caller.token()).get(FILE).then().statusCode(200);
        assertThat(active(callerRead)).isTrue();
    }

    @Test
    void anEmergencyTheSchedulerStartsRevokesEveryGrantAtOnce() {
        Principal admin = principal("admin");
        String adminRead = grant(admin, "env-file:read");
        Principal deployer = principal("deployer");
        String deployerRead = grant(deployer, "env-file:read");
        Rotations.awaitIdle(adminToken(), ENV);

        ReentrantLock lock = files.lock(ENV);
        lock.lock();
        String id;
        try {
            id = emergencies.requestAs("scheduler", environments.require(ENV),
                    new Reason("onDrift: emergency; test")).id;
            as(deployer.token()).get(FILE).then().statusCode(403);
            as(admin.token()).get(FILE).then().statusCode(403);
            assertThat(active(deployerRead)).isFalse();
            assertThat(active(adminRead)).isFalse();
        } finally {
            lock.unlock();
        }
        assertThat(Rotations.awaitFinished(adminToken(), id).getString("status")).isEqualTo("COMPLETED");
    }
}
