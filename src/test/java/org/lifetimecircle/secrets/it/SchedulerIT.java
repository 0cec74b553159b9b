package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * The scheduler in the packaged jar on the real clock, with second-scale policies: an overdue secret
 * is flagged once (not once per run), and one with {@code whenOverdue: rotate} is rotated within two
 * scheduler intervals of falling due.
 */
class SchedulerIT {

    private static final Duration CHECK_EVERY = Duration.ofSeconds(2);
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void overdueSecretsAreFlaggedOnceAndRotatedWithinTwoIntervals() throws Exception {
        Path policies = tmp.resolve("policies/environments");
        Files.createDirectories(policies);
        Files.writeString(policies.resolve("flagged.yaml"), policy("flagged", "flag"));
        Files.writeString(policies.resolve("rotated.yaml"), policy("rotated", "rotate"));
        Path data = tmp.resolve("data");
        try (ServiceProcess service = ServiceProcess.builder()
                .profile("dev")
                .workingDir(tmp)
                .jvmFlag("-Xmx128m")
                .property("ltc-secrets.data-dir", data.toString())
                .property("ltc-secrets.policies-dir", tmp.resolve("policies").toString())
                .property("ltc-secrets.file-root", data.resolve("root").toString())
                .property("ltc-secrets.scheduler.check-every", CHECK_EVERY.toSeconds() + "s")
                .log(tmp.resolve("service.log"))
                .start()) {
            service.awaitHealthy(DEADLINE);
            String token = Files.readString(data.resolve("bootstrap-admin.token")).trim();

            // rotated: its first SCHEDULED rotation completes, requested within two intervals of the due time.
            JsonPath scheduled = await(() -> list(service, token, "/api/v1/rotations?environment=rotated&kind=SCHEDULED"),
                    rows -> rows.stream().anyMatch(r -> "COMPLETED".equals(r.get("status"))));
            Map<String, Object> first = scheduled.<Map<String, Object>>getList("$").stream()
                    .filter(r -> Long.valueOf(1).equals(((Number) r.get("fromVersion")).longValue())).findFirst()
                    .orElseThrow();
            assertThat(first.get("requestedBy")).isEqualTo("scheduler");
            Instant due = createdAt(service, token, "rotated", 1).plusSeconds(4);
            assertThat(Duration.between(due, Instant.parse((String) first.get("requestedAt"))))
                    .as("delay from due time to the SCHEDULED rotation").isLessThanOrEqualTo(CHECK_EVERY.multipliedBy(2));

            // flagged: one secret.overdue event, within two intervals, and still one after more runs.
            JsonPath overdue = await(() -> list(service, token, "/api/v1/audit/events?action=secret.overdue&environment=flagged"),
                    rows -> !rows.isEmpty());
            Instant flaggedDue = createdAt(service, token, "flagged", 1).plusSeconds(4);
            assertThat(Duration.between(flaggedDue, Instant.parse(overdue.getString("[0].time"))))
                    .isLessThanOrEqualTo(CHECK_EVERY.multipliedBy(2));
            double runs = metric(service, "ltc_scheduler_runs_total{outcome=\"success\"}");
            await(() -> list(service, token, "/api/v1/audit/events?action=secret.overdue&environment=flagged"),
                    rows -> metricOrZero(service, "ltc_scheduler_runs_total{outcome=\"success\"}") >= runs + 3);
            assertThat(list(service, token, "/api/v1/audit/events?action=secret.overdue&environment=flagged")
                    .getList("$")).hasSize(1);
            assertThat(list(service, token, "/api/v1/rotations?environment=flagged&kind=SCHEDULED").getList("$"))
                    .isEmpty();
            assertThat(metric(service, "ltc_secret_overdue{environment=\"flagged\",secret=\"LTC_SECRET_KEY\"}"))
                    .isEqualTo(1.0);
            assertThat(metric(service, "ltc_scheduler_last_success_timestamp_seconds"))
                    .isGreaterThan((double) flaggedDue.getEpochSecond());
        }
    }

    private static String policy(String env, String whenOverdue) {
        return """
                environment: %s
                envFile:
                  path: /etc/lifetimecircle/%s.env
                  mode: "0600"
                variables:
                  LTC_ENV: %s
                secrets:
                  LTC_SECRET_KEY:
                    rotateEvery: PT4S
                    warnBefore: PT2S
                    previousGrace: PT2S
                    whenOverdue: %s
                """.formatted(env, env, env, whenOverdue);
    }

    private static JsonPath list(ServiceProcess service, String token, String path) throws Exception {
        Response r = as(service, token).get(path);
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r.jsonPath();
    }

    private static Instant createdAt(ServiceProcess service, String token, String env, long version) throws Exception {
        List<Map<String, Object>> versions = list(service, token, "/api/v1/environments/" + env
                + "/secrets/LTC_SECRET_KEY/versions").getList("$");
        return versions.stream().filter(v -> ((Number) v.get("version")).longValue() == version)
                .map(v -> Instant.parse((String) v.get("createdAt"))).findFirst().orElseThrow();
    }

    private static double metric(ServiceProcess service, String series) throws Exception {
        return service.get("/q/metrics").orElseThrow().body().lines().filter(l -> l.startsWith(series + " "))
                .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).findFirst()
                .orElseThrow(() -> new AssertionError("no series " + series));
    }

    private static double metricOrZero(ServiceProcess service, String series) {
        try {
            return metric(service, series);
        } catch (Exception | AssertionError e) {
            return 0;
        }
    }

    interface Call {
        JsonPath call() throws Exception;
    }

    /** Polls until the list answer satisfies {@code done}, with a deadline. */
    private static JsonPath await(Call call, Predicate<List<Map<String, Object>>> done) {
        return Poll.until("the list", DEADLINE, call::call, r -> done.test(r.getList("$")), JsonPath::prettify);
    }
}
