package org.lifetimecircle.secrets.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.BlackBoxHttp.get;
import static org.lifetimecircle.secrets.testing.BlackBoxHttp.post;

import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.lifetimecircle.secrets.testing.BlackBoxHttp.Reply;

/**
 * The API calls the black-box tests of the packaged jar share: the bootstrap admin's token, a grant
 * to it, a rotation, and waiting for a rotation to end. One copy, so the tests that kill and restart
 * the jar all mean the same thing by "rotated" and "finished".
 */
public final class BlackBoxApi {

    /** How long a rotation job may take before a test gives up on it (a loaded 2-core machine). */
    public static final Duration JOB_DEADLINE = Duration.ofSeconds(30);

    private BlackBoxApi() {
    }

    /** The bootstrap admin's token, as the first start wrote it into the data directory. */
    public static String adminToken(Path dataDir) throws IOException {
        return Files.readString(dataDir.resolve("bootstrap-admin.token")).trim();
    }

    /** Grants {@code permission} on {@code env} to the bootstrap admin for an hour; asserts 201. */
    public static void grant(ServiceProcess service, String token, String env, String permission)
            throws IOException, InterruptedException {
        Reply r = post(service, token, "/api/v1/grants", Map.of("principal", "bootstrap-admin", "environment", env,
                "permission", permission, "ttl", "PT1H", "reason", "black-box test"));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
    }

    /** Requests a MANUAL rotation of {@code env}'s LTC_SECRET_KEY; asserts 202 and returns its id. */
    public static String rotate(ServiceProcess service, String token, String env)
            throws IOException, InterruptedException {
        Reply r = post(service, token, "/api/v1/environments/" + env + "/secrets/LTC_SECRET_KEY/rotations",
                Map.of("reason", "black-box test"));
        assertThat(r.status()).as(r.text()).isEqualTo(202);
        return r.json().getString("id");
    }

    /** Polls the rotation until it is no longer PENDING or RUNNING, within {@link #JOB_DEADLINE}. */
    public static JsonPath awaitFinished(ServiceProcess service, String token, String id)
            throws IOException, InterruptedException {
        long end = System.nanoTime() + JOB_DEADLINE.toNanos();
        while (true) {
            Reply r = get(service, token, "/api/v1/rotations/" + id);
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            JsonPath rotation = r.json();
            String status = rotation.getString("status");
            if (!status.equals("PENDING") && !status.equals("RUNNING")) {
                return rotation;
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("rotation " + id + " still " + status + " after " + JOB_DEADLINE
                        + ":\n" + rotation.prettify());
            }
            Thread.sleep(20); // a poll interval, not a timing assumption: the deadline decides
        }
    }
}
