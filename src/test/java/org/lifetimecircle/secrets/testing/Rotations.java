package org.lifetimecircle.secrets.testing;

import static org.lifetimecircle.secrets.testing.Api.as;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The one way tests start a rotation and wait for jobs, in the {@code @QuarkusTest} application or a
 * packaged jar ({@link ServiceProcess}): {@link Poll}ed with a deadline, never slept on blind. One copy,
 * so every test means the same thing by "rotated" and "finished".
 */
public final class Rotations {

    /** How long a rotation job may take before a test gives up on it (a loaded 2-core machine). */
    public static final Duration JOB_DEADLINE = Duration.ofSeconds(30);

    private Rotations() {
    }

    /** Requests a MANUAL rotation as {@code token} and returns its id (202 expected). */
    public static String rotate(String token, String env, String secret) {
        return rotate(() -> as(token), env, secret);
    }

    /** Requests a MANUAL rotation in the packaged jar {@code service}; returns its id (202 expected). */
    public static String rotate(ServiceProcess service, String token, String env, String secret) {
        return rotate(() -> as(service, token), env, secret);
    }

    /** Polls the rotation until it is COMPLETED, FAILED or ROLLED_BACK; returns its record. */
    public static JsonPath awaitFinished(String token, String id) {
        return awaitFinished(() -> as(token), id);
    }

    /** Polls the rotation in the packaged jar {@code service} until it is no longer PENDING or RUNNING. */
    public static JsonPath awaitFinished(ServiceProcess service, String token, String id) {
        return awaitFinished(() -> as(service, token), id);
    }

    /** Rotates and waits; returns the finished record. */
    public static JsonPath rotateAndWait(String token, String env, String secret) {
        return awaitFinished(token, rotate(token, env, secret));
    }

    /** Waits until no rotation of the environment is PENDING or RUNNING. */
    public static void awaitIdle(String token, String env) {
        Poll.atMost(JOB_DEADLINE).alias("rotations of " + env + " idle").until(
                () -> busy(token, env, "RUNNING").isEmpty() && busy(token, env, "PENDING").isEmpty());
    }

    private static List<Object> busy(String token, String env, String status) {
        return as(token).queryParam("environment", env).queryParam("status", status)
                .get("/api/v1/rotations").then().statusCode(200).extract().jsonPath().getList("id");
    }

    private static String rotate(Supplier<RequestSpecification> caller, String env, String secret) {
        return caller.get().contentType(ContentType.JSON).body(Map.of("reason", "test rotation"))
                .post("/api/v1/environments/" + env + "/secrets/" + secret + "/rotations").then().statusCode(202)
                .extract().path("id");
    }

    private static JsonPath awaitFinished(Supplier<RequestSpecification> caller, String id) {
        return Poll.until("rotation " + id + " finished", JOB_DEADLINE,
                () -> caller.get().get("/api/v1/rotations/" + id).then().statusCode(200).extract().jsonPath(),
                r -> !r.getString("status").equals("PENDING") && !r.getString("status").equals("RUNNING"),
                JsonPath::prettify);
    }
}
