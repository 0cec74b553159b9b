package org.lifetimecircle.secrets.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Security review (issue 18): a rotation whose request committed after its caller was answered 503
 * (the writer's wait ran out; the unit still committed) had no job until the next restart and
 * refused every retry with 409. The scheduler's run starts a job for any PENDING rotation without
 * one. The orphan is made the way such a commit leaves it: the rotation row, journaled, no job.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class OrphanedRotationTest {

    private static final String ENV = "staging";
    private static final String SECRET = "LTC_SECRET_KEY";

    @Inject
    Housekeeping scheduler;

    @Test
    void aPendingRotationWithoutAJobIsStartedByTheNextRun() throws Exception {
        String name = Api.uniqueName("orphan");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(201);
        String token = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        for (String permission : List.of("secret:rotate", "env-file:read")) {
            as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", name, "environment", ENV,
                            "permission", permission, "ttl", "PT2H", "reason", "orphaned rotation test"))
                    .post("/api/v1/grants").then().statusCode(201);
        }
        Rotations.awaitIdle(token, ENV);
        JsonPath rotated = Rotations.rotateAndWait(token, ENV, SECRET);
        long current = rotated.getLong("toVersion");
        long previous = rotated.getLong("fromVersion");

        String id = Long.toHexString(System.nanoTime() | Long.MIN_VALUE).substring(0, 16);
        long requestedAt = TestClock.now().minus(Duration.ofMinutes(10)).toEpochMilli();
        Db.exec("insert into rotation (id, environment, secret, kind, status, from_version, to_version, requested_by, "
                        + "reason, requested_at) values ('" + id + "', '" + ENV + "', '" + SECRET + "', 'ROLLBACK', "
                        + "'PENDING', " + current + ", " + previous + ", '" + name + "', 'answered 503, committed', "
                        + requestedAt + ")",
                "insert into rotation_step (rotation_id, name, status, at, detail) values ('" + id + "', 'request', "
                        + "'DONE', " + requestedAt + ", 'ROLLBACK')");
        // Without a job it blocks every other rotation of the secret.
        as(token).contentType(ContentType.JSON).body(Map.of("reason", "retry"))
                .post("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/rotations").then().statusCode(409)
                .body("code", equalTo("conflict"));

        scheduler.run(TestClock.now());

        JsonPath done = Rotations.awaitFinished(token, id);
        assertThat(done.getString("status")).isEqualTo("COMPLETED");
        assertThat(done.getLong("toVersion")).isEqualTo(previous);
        assertThat(Rotations.rotateAndWait(token, ENV, SECRET).getString("status")).isEqualTo("COMPLETED");
    }
}
