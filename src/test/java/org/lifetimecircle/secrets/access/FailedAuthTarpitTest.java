package org.lifetimecircle.secrets.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.audit.AuthDenials;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * A flood of bad tokens from one source is slowed down before it reaches a worker thread or the database,
 * so it cannot take a legitimate request's CPU (bench/auth-flood.sh measures that): past the free failures of
 * a second, the source's requests without a recently good token wait a second, and are then answered and
 * audited like any other. A token that authenticated lately never waits, whatever its source did.
 */
@QuarkusTest
@TestProfile(FailedAuthTarpitTest.Tarpit.class)
@WithTestResource(TestDataDir.class)
class FailedAuthTarpitTest {

    /** Its own application, with the tarpit on (the shared test profile turns it off: its tests send many 401s). */
    public static class Tarpit implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("ltc-secrets.tokens.free-failures-per-second", "5");
        }
    }

    private static final String UNKNOWN_TOKEN = "ltcs_0123456789abcdef_" + "A".repeat(43);

    @Inject
    FailedAuthTarpit tarpit;

    @Inject
    AuthDenials denials;

    @Test
    void pastItsFreeFailuresASourceWaitsBeforeItIsAnsweredAndAuditedAsUsual() {
        String admin = adminToken();
        as(admin).get("/api/v1/environments").then().statusCode(200);
        denials.flush();
        long before = deniedCount();

        // Failures are counted per second of the monotonic clock, so six in a row may straddle a second's end
        // (3 + 3: none waits yet). Twelve in a row cannot all do that: at least six land in one second, and a
        // request after them must wait. The first that waits ends the loop.
        int sent = 0;
        long waitedMillis = 0;
        while (sent < 12 && waitedMillis < 900) {
            long started = System.nanoTime();
            as(UNKNOWN_TOKEN).get("/api/v1/environments").then().statusCode(401)
                    .contentType("application/problem+json");
            waitedMillis = (System.nanoTime() - started) / 1_000_000;
            sent++;
        }
        // A lower bound the service imposes, not a speed: it can only be longer on a slow machine.
        assertThat(waitedMillis).as("a failure past the free ones of a second waits the tarpit's delay")
                .isGreaterThanOrEqualTo(900);
        assertThat(sent).as("no failure among the first six of a second waits").isGreaterThanOrEqualTo(7);

        // Answered and audited as usual: every 401 is counted, the one that waited too.
        denials.flush();
        assertThat(deniedCount() - before).isEqualTo(sent);
    }

    @Test
    void aRecentlyGoodTokenNeverWaitsAndAQuietSourceNeverDoes() {
        String source = "192.0.2.10"; // a documentation address: only a key in the tarpit's table, no traffic
        for (int i = 0; i < 6; i++) {
            tarpit.failed(source);
        }
        tarpit.succeeded("00000000000000aa");

        assertThat(tarpit.shouldWait(source, Optional.empty())).as("no token").isTrue();
        assertThat(tarpit.shouldWait(source, Optional.of("00000000000000bb"))).as("a token never seen good").isTrue();
        assertThat(tarpit.shouldWait(source, Optional.of("00000000000000aa"))).as("a token good lately").isFalse();
        assertThat(tarpit.shouldWait("192.0.2.11", Optional.empty())).as("another source").isFalse();
    }

    private static long deniedCount() {
        List<Map<String, Object>> events = as(adminToken())
                .get("/api/v1/audit/events?action=auth.denied&limit=1000").then().statusCode(200)
                .extract().jsonPath().getList("$");
        return events.stream()
                .map(e -> (Map<?, ?>) e.get("details"))
                .filter(d -> d != null && "invalid-token".equals(d.get("reason")) && d.get("count") != null)
                .mapToLong(d -> ((Number) d.get("count")).longValue())
                .sum();
    }
}
