package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.as;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * A flood of unauthenticated requests against the packaged jar: every 401 is counted, none is lost,
 * and the trail gains a handful of aggregated {@code auth.denied} events instead of one per request,
 * also when the service is stopped right after the flood (the last second's counts are flushed at
 * shutdown).
 */
class AuthDenialsIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** Well-formed, but no such token exists. */
    private static final String UNKNOWN_TOKEN = "ltcs_0123456789abcdef_" + "A".repeat(43);

    @TempDir
    Path tmp;
    Path data;
    Path policies;
    int starts;

    @BeforeEach
    void layout() throws IOException {
        data = tmp.resolve("data");
        policies = ServiceProcess.testPolicies(tmp, "prod");
    }

    @Test
    void failedAuthenticationIsCountedInAFewAggregatedEventsAndNoneIsLostAtShutdown() throws Exception {
        int n = 1000;
        int m = 300;
        try (ServiceProcess service = start()) {
            String admin = token();
            Instant began = Instant.now();
            flood(service, n);
            long seconds = Duration.between(began, Instant.now()).toSeconds() + 1;
            List<Map<String, Object>> events = awaitDeniedCount(service, admin, n);
            // One event per source address (127.0.0.1) and reason (missing-token, invalid-token) per second.
            assertThat(events.size()).as("aggregated auth.denied events for %d 401s in about %d s", n, seconds)
                    .isBetween(2, (int) (2 * (seconds + 2)));
            for (Map<String, Object> e : events) {
                assertThat(e).containsEntry("actor", "anonymous").containsEntry("outcome", "DENIED")
                        .containsEntry("sourceIp", "127.0.0.1");
                assertThat(details(e)).containsEntry("status", 401).containsEntry("code", "unauthorized");
                assertThat(details(e).get("reason")).isIn("missing-token", "invalid-token");
                assertThat(e.toString()).doesNotContain(UNKNOWN_TOKEN);
            }
            assertThat(sumOf(events, "missing-token")).isEqualTo(n / 2);
            assertThat(sumOf(events, "invalid-token")).isEqualTo(n - n / 2);

            flood(service, m);
            assertThat(service.stop()).isIn(0, 143); // SIGTERM at once: within the aggregation second
        }
        try (ServiceProcess service = start()) {
            List<Map<String, Object>> events = awaitDeniedCount(service, token(), n + m);
            assertThat(sumOf(events, null)).as("401s counted before the stop, flushed at shutdown").isEqualTo(n + m);
        }
    }

    /** {@code count} requests without a valid token, half with none, half with an unknown one, 8 at a time. */
    private static void flood(ServiceProcess service, int count) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                boolean withToken = i % 2 == 1;
                answers.add(pool.submit(() -> {
                    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(service.baseUrl() + "/api/v1/environments"))
                            .timeout(Duration.ofSeconds(10)).GET();
                    if (withToken) {
                        r.header("Authorization", "Bearer " + UNKNOWN_TOKEN);
                    }
                    return HTTP.send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                }));
            }
            for (Future<Integer> a : answers) {
                assertThat(a.get()).isEqualTo(401);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Polls (deadline 20 s) until the auth.denied events' counts add up to {@code expected}; returns them. */
    private static List<Map<String, Object>> awaitDeniedCount(ServiceProcess service, String admin, long expected)
            throws Exception {
        AtomicReference<List<Map<String, Object>>> events = new AtomicReference<>();
        Poll.atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            events.set(as(service, admin).get("/api/v1/audit/events?action=auth.denied&limit=1000").jsonPath()
                    .getList("$"));
            long sum = sumOf(events.get(), null);
            assertThat(sum).as("sum of details.count over %d auth.denied events", events.get().size())
                    .isGreaterThanOrEqualTo(expected);
        });
        assertThat(sumOf(events.get(), null)).as("sum of details.count over %d auth.denied events", events.get().size())
                .isEqualTo(expected);
        return events.get();
    }

    private static long sumOf(List<Map<String, Object>> events, String reason) {
        return events.stream().filter(e -> reason == null || reason.equals(details(e).get("reason")))
                .mapToLong(e -> details(e).get("count") instanceof Number c ? c.longValue() : 0).sum();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> details(Map<String, Object> event) {
        return (Map<String, Object>) event.get("details");
    }

    private String token() throws IOException {
        return Files.readString(data.resolve("bootstrap-admin.token")).trim();
    }

    private ServiceProcess start() {
        return ServiceProcess.dev(tmp, data, policies, data.resolve("root"))
                // Counts 1,300 sequential 401s: without the tarpit (FailedAuthTarpitTest covers it), or they would wait.
                .property("ltc-secrets.tokens.free-failures-per-second", "0")
                .log(tmp.resolve("service-" + (++starts) + ".log"))
                .startHealthy(ServiceProcess.START_DEADLINE);
    }
}
