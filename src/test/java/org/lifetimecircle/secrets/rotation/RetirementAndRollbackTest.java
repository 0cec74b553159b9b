package org.lifetimecircle.secrets.rotation;

import static org.assertj.core.api.Assertions.assertThat;
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
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Security review (issue 18): PREVIOUS retirement took neither the environment's lock nor a look at
 * active rotations, so a queued ROLLBACK lost the version it was to promote and stayed PENDING (or
 * RUNNING, on a null dereference in promote) until a restart, refusing every other rotation of the
 * secret meanwhile. The rollback is held queued at the environment's lock, as behind another
 * rotation; the test thread holds that lock, and the retirement it calls takes it again.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class RetirementAndRollbackTest {

    private static final String ENV = "staging";
    private static final String SECRET = "LTC_SECRET_KEY";
    private static String token;

    @Inject
    PreviousRetirement retirement;

    @Inject
    EnvFileService files;

    @BeforeEach
    void principal() {
        if (token != null) {
            return;
        }
        String name = Api.uniqueName("retire");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(201);
        token = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        for (String permission : List.of("secret:rotate", "env-file:read")) {
            as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", name, "environment", ENV,
                            "permission", permission, "ttl", "PT2H", "reason", "retirement test"))
                    .post("/api/v1/grants").then().statusCode(201);
        }
    }

    private static String rollback() {
        return as(token).contentType(ContentType.JSON).body(Map.of("reason", "bad deploy"))
                .post("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/rollback").then().statusCode(202)
                .extract().path("id");
    }

    private static long previousCount() throws Exception {
        return Db.queryLong("select count(*) from secret_version where environment = '" + ENV + "' and secret = '"
                + SECRET + "' and state = 'PREVIOUS'");
    }

    @Test
    void aQueuedRollbackKeepsThePreviousVersionPastItsGraceAndCompletes() throws Exception {
        Rotations.awaitIdle(token, ENV);
        JsonPath rotated = Rotations.rotateAndWait(token, ENV, SECRET);
        ReentrantLock lock = files.lock(ENV);
        lock.lock();
        String id;
        try {
            id = rollback();
            // The grace (P7D) is over, but the rollback needs the version: kept for a later run.
            retirement.retireExpired(TestClock.now().plus(Duration.ofDays(8)));
            assertThat(previousCount()).isEqualTo(1);
        } finally {
            lock.unlock();
        }
        JsonPath done = Rotations.awaitFinished(token, id);
        assertThat(done.getString("status")).isEqualTo("COMPLETED");
        assertThat(done.getLong("toVersion")).isEqualTo(rotated.getLong("fromVersion"));
    }

    @Test
    void aRollbackWhosePreviousVersionIsGoneEndsFailedInsteadOfStayingPending() throws Exception {
        Rotations.awaitIdle(token, ENV);
        JsonPath rotated = Rotations.rotateAndWait(token, ENV, SECRET);
        ReentrantLock lock = files.lock(ENV);
        lock.lock();
        String id;
        try {
            id = rollback();
            // Gone behind the rollback's back (how the unlocked retirement did it).
            Db.exec("update secret_version set state = 'RETIRED', ciphertext = null, ended_at = "
                    + TestClock.now().toEpochMilli() + " where environment = '" + ENV + "' and secret = '" + SECRET
                    + "' and state = 'PREVIOUS'");
        } finally {
            lock.unlock();
        }
        JsonPath done = Rotations.awaitFinished(token, id);
        assertThat(done.getString("status")).isEqualTo("FAILED");
        assertThat(done.getList("steps.status")).contains("FAILED");
        // Nothing changed: the rotated version is still CURRENT, and the secret can be rotated again.
        assertThat(Db.queryLong("select version from secret_version where environment = '" + ENV + "' and secret = '"
                + SECRET + "' and state = 'CURRENT'")).isEqualTo(rotated.getLong("toVersion"));
        assertThat(Rotations.rotateAndWait(token, ENV, SECRET).getString("status")).isEqualTo("COMPLETED");
    }
}
