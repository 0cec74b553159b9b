package org.lifetimecircle.secrets.testing;

import static org.lifetimecircle.secrets.testing.Api.as;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Test helpers for rotations: start one, and wait for jobs by polling with a deadline (never sleeping blind). */
public final class Rotations {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private Rotations() {
    }

    /** Requests a MANUAL rotation as {@code token} and returns its id (202 expected). */
    public static String rotate(String token, String env, String secret) {
        return as(token).contentType(ContentType.JSON).body(Map.of("reason", "test rotation"))
                .post("/api/v1/environments/" + env + "/secrets/" + secret + "/rotations").then().statusCode(202)
                .extract().path("id");
    }

    /** Polls the rotation until it is COMPLETED, FAILED or ROLLED_BACK; returns its record. */
    public static JsonPath awaitFinished(String token, String id) {
        Instant deadline = Instant.now().plus(DEADLINE);
        while (true) {
            JsonPath r = as(token).get("/api/v1/rotations/" + id).then().statusCode(200).extract().jsonPath();
            String status = r.getString("status");
            if (!status.equals("PENDING") && !status.equals("RUNNING")) {
                return r;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("rotation " + id + " still " + status + " after " + DEADLINE);
            }
            Thread.onSpinWait();
        }
    }

    /** Rotates and waits; returns the finished record. */
    public static JsonPath rotateAndWait(String token, String env, String secret) {
        return awaitFinished(token, rotate(token, env, secret));
    }

    /** Waits until no rotation of the environment is PENDING or RUNNING. */
    public static void awaitIdle(String token, String env) {
        Instant deadline = Instant.now().plus(DEADLINE);
        while (true) {
            List<Object> busy = as(token).queryParam("environment", env).queryParam("status", "RUNNING")
                    .get("/api/v1/rotations").then().statusCode(200).extract().jsonPath().getList("id");
            List<Object> pending = as(token).queryParam("environment", env).queryParam("status", "PENDING")
                    .get("/api/v1/rotations").then().statusCode(200).extract().jsonPath().getList("id");
            if (busy.isEmpty() && pending.isEmpty()) {
                return;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("rotations of " + env + " still busy after " + DEADLINE);
            }
            Thread.onSpinWait();
        }
    }
}
