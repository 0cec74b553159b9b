package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;
import static org.lifetimecircle.secrets.testing.Api.grant;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.ServiceProcess;
import org.lifetimecircle.secrets.testing.TcpProxy;
import org.lifetimecircle.secrets.testing.TestPostgres;

/**
 * Active/standby on one real PostgreSQL database, black box: two packaged jars ("a" started first, so active;
 * "b" its standby) share the database, the master key and the env files' root, as two hosts would share the
 * database and the key. Traffic runs against the active (rotations, audited env-file fetches, the scheduler on a
 * one-second tick with second-scale policies); then the active is killed (-9) or cut off from the database, and
 * the standby must take over within the contract's 15 s with nothing acknowledged lost and the chain intact.
 *
 * <p>Who wrote what is read from the trail itself: every request the test sends to an instance carries a request
 * id naming that instance, and each take-over's {@code system.start} names the instance and its epoch.
 */
class FailoverIT {

    /** The contract: a standby becomes active within 15 s of the active's death or cut. */
    private static final Duration TAKEOVER = Duration.ofSeconds(15);
    private static final Duration START = ServiceProcess.START_DEADLINE;

    @TempDir
    Path tmp;
    private Path policies;
    private Path fileRoot;
    private String database;
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final AtomicBoolean loadRuns = new AtomicBoolean(true);
    private final ExecutorService load = Executors.newFixedThreadPool(2);

    @BeforeEach
    void layout() throws IOException {
        policies = ServiceProcess.testPolicies(tmp, "prod", "staging");
        // The scheduler's evidence: an overdue secret is flagged once per version (flagged), and a secret that
        // rotates when overdue gets one SCHEDULED rotation per version (rotated), whichever instance ran the tick.
        Files.writeString(policies.resolve("environments/flagged.yaml"), schedulerPolicy("flagged", "flag"));
        Files.writeString(policies.resolve("environments/rotated.yaml"), schedulerPolicy("rotated", "rotate"));
        fileRoot = tmp.resolve("root");
        database = TestPostgres.cluster().createDatabase();
    }

    @AfterEach
    void stop() throws Exception {
        loadRuns.set(false);
        load.shutdownNow();
        load.awaitTermination(30, TimeUnit.SECONDS);
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }

    @Test
    void theStandbyTakesOverAKilledActiveWithinFifteenSecondsAndNothingAcknowledgedIsLost() throws Exception {
        ServiceProcess a = startHealthy("a", database);
        assertThat(role(a)).isEqualTo("active");
        ServiceProcess b = startHealthy("b", database);
        assertThat(role(b)).as("the second instance on the database").isEqualTo("standby");
        String token = adminToken(dataDir("a"));
        assertStandbyRefuses(b, token, "a");

        grant(a, token, "prod", "secret:rotate");
        grant(a, token, "prod", "env-file:read");
        grant(a, token, "staging", "secret:rotate");
        Queue<String> acknowledged = new ConcurrentLinkedQueue<>();
        AtomicInteger fetched = new AtomicInteger();
        runLoad(a, "a", token, acknowledged, fetched);
        Poll.atMost(Duration.ofSeconds(60)).alias("rotations and fetches acknowledged by the active")
                .until(() -> acknowledged.size() >= 4 && fetched.get() >= 20);
        // The scheduler has acted on the active (a version flagged, a SCHEDULED rotation) before it dies...
        Poll.atMost(Duration.ofSeconds(60)).alias("the first active's scheduler flagged and rotated")
                .until(() -> !scheduled(a, token).isEmpty() && !overdueFlags(a, token).isEmpty());

        long killedAt = System.nanoTime();
        a.kill();
        awaitActive(b);
        long activeAt = System.nanoTime();
        awaitFirstWrite(b, token);
        System.out.printf("[failover-it] kill -9: role active after %d ms, first write after %d ms%n",
                (activeAt - killedAt) / 1_000_000, (System.nanoTime() - killedAt) / 1_000_000);
        loadRuns.set(false);

        assertEveryAcknowledgedRotationFinished(b, token, acknowledged);
        assertEnvFilesAreTheActivesCurrent(b, token);
        // ... and acts again on the new active, which took over the scheduler's state with the database.
        int before = scheduled(b, token).size();
        Poll.atMost(Duration.ofSeconds(60)).alias("the new active's scheduler rotates too")
                .until(() -> scheduled(b, token).size() > before);
        List<Map<String, Object>> trail = assertTrailAfterTakeOver(b, token, "a", "b");
        assertSchedulerRanOncePerTick(b, token, trail);

        // Restarted (systemd's Restart=), the old active joins as a standby naming the new active.
        ServiceProcess again = startHealthy("a", database);
        assertThat(role(again)).isEqualTo("standby");
        assertStandbyRefuses(again, token, "b");
    }

    @Test
    void anActiveCutOffFromTheDatabaseFencesItselfAndNothingItSendsLandsAfterTheTakeOver() throws Exception {
        TcpProxy cable = TcpProxy.to("127.0.0.1", TestPostgres.cluster().port());
        cleanup.add(cable);
        ServiceProcess a = startHealthy("a", database.replace(":" + TestPostgres.cluster().port() + "/",
                ":" + cable.port() + "/"));
        ServiceProcess b = startHealthy("b", database);
        assertThat(role(a)).isEqualTo("active");
        assertThat(role(b)).isEqualTo("standby");
        String token = adminToken(dataDir("a"));
        grant(a, token, "prod", "secret:rotate");
        grant(a, token, "prod", "env-file:read");
        grant(a, token, "staging", "secret:rotate");
        Queue<String> acknowledged = new ConcurrentLinkedQueue<>();
        AtomicInteger fetched = new AtomicInteger();
        runLoad(a, "a", token, acknowledged, fetched);
        Poll.atMost(Duration.ofSeconds(60)).alias("rotations and fetches acknowledged by the active")
                .until(() -> acknowledged.size() >= 2 && fetched.get() >= 20);

        cable.cut();
        long cutAt = System.nanoTime();
        Duration takeover = awaitActive(b);
        System.out.printf("[failover-it] network cut: role active after %d ms%n", takeover.toMillis());
        // The cut-off active goes on taking requests (load keeps sending them) until it notices; then it exits.
        assertThat(a.awaitExit(Duration.ofSeconds(30))).as("exit status of the fenced instance").isEqualTo(75);
        assertThat(a.output()).contains("is fenced and stops now");
        System.out.printf("[failover-it] network cut: the old active exited %d ms after the cut%n",
                Duration.ofNanos(System.nanoTime() - cutAt).toMillis());
        loadRuns.set(false);
        awaitFirstWrite(b, token);

        assertEveryAcknowledgedRotationFinished(b, token, acknowledged);
        assertEnvFilesAreTheActivesCurrent(b, token);
        assertTrailAfterTakeOver(b, token, "a", "b");
    }

    // ---- checks ------------------------------------------------------------------------------------

    /**
     * Every rotation the old active acknowledged (202) is there and finished as a restart would finish it: those
     * whose job had not started or had finished are COMPLETED; one the take-over interrupted mid-job (at most one
     * per environment: a secret rotates one at a time) is recovered by the new active and ROLLED_BACK to the
     * CURRENT version, with its {@code recover} step saying so. None is lost, none stays PENDING or RUNNING.
     */
    private static void assertEveryAcknowledgedRotationFinished(ServiceProcess active, String token,
                                                                Queue<String> acknowledged) {
        int recovered = 0;
        for (String id : acknowledged) {
            JsonPath done = Rotations.awaitFinished(active, token, id);
            String status = done.getString("status");
            boolean interrupted = done.getList("steps.name").contains("recover");
            assertThat(status.equals("COMPLETED") || status.equals("ROLLED_BACK") && interrupted)
                    .as("acknowledged rotation %s after the take-over: %s", id, done.prettify()).isTrue();
            recovered += interrupted ? 1 : 0;
        }
        assertThat(recovered).as("rotations the take-over interrupted (prod and staging rotate one at a time)")
                .isLessThanOrEqualTo(2);
        assertThat(acknowledged.size() - recovered).as("acknowledged rotations COMPLETED").isPositive();
    }

    /** The env files on disk are the CURRENT versions the new active serves (it brought them up to date). */
    private void assertEnvFilesAreTheActivesCurrent(ServiceProcess active, String token) throws IOException {
        Response served = as(active, token).header("X-Request-Id", "b-check-env-file")
                .get("/api/v1/environments/prod/env-file");
        assertThat(served.statusCode()).as(served.asString()).isEqualTo(200);
        assertThat(Files.readAllBytes(fileRoot.resolve("etc/lifetimecircle/prod.env")))
                .as("prod.env on disk after the take-over").isEqualTo(served.asByteArray());
    }

    /** A standby's /api/v1: 503 standby naming the active, in detail and in X-Active-Instance; nothing done. */
    private void assertStandbyRefuses(ServiceProcess standby, String token, String active) {
        Response r = as(standby, token).get("/api/v1/environments");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(503);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.jsonPath().getString("code")).isEqualTo("standby");
        assertThat(r.jsonPath().getString("detail")).contains(advertised(active));
        assertThat(r.header("X-Active-Instance")).isEqualTo(advertised(active));
        Response post = as(standby, token).contentType(ContentType.JSON).body(Map.of("reason", "on a standby"))
                .post("/api/v1/environments/prod/secrets/LTC_SECRET_KEY/rotations");
        assertThat(post.statusCode()).as(post.asString()).isEqualTo(503);
        assertThat(post.jsonPath().getString("code")).isEqualTo("standby");
    }

    /**
     * The chain verifies; the take-over's system.start names the new instance with the next epoch; every event
     * of a request sent to the old active is before it, and none of the new one's is. Returns the trail.
     */
    private List<Map<String, Object>> assertTrailAfterTakeOver(ServiceProcess active, String token, String oldName,
                                                               String newName) {
        JsonPath verify = as(active, token).get("/api/v1/audit/verify").then().statusCode(200).extract().jsonPath();
        assertThat(verify.getBoolean("valid")).as(verify.prettify()).isTrue();
        List<Map<String, Object>> trail = trail(active, token);
        List<Map<String, Object>> starts = trail.stream().filter(e -> "system.start".equals(e.get("action"))).toList();
        assertThat(starts).as("one system.start per take-over").hasSize(2);
        assertThat(details(starts.get(0))).containsEntry("instance", advertised(oldName)).containsEntry("haEpoch", 1);
        assertThat(details(starts.get(1))).containsEntry("instance", advertised(newName)).containsEntry("haEpoch", 2);
        long takeOverSeq = seq(starts.get(1));
        List<Long> oldAfter = new ArrayList<>();
        List<Long> newBefore = new ArrayList<>();
        for (Map<String, Object> e : trail) {
            String requestId = (String) e.get("requestId");
            if (requestId != null && requestId.startsWith(oldName + "-") && seq(e) > takeOverSeq) {
                oldAfter.add(seq(e));
            }
            if (requestId != null && requestId.startsWith(newName + "-") && seq(e) < takeOverSeq) {
                newBefore.add(seq(e));
            }
        }
        assertThat(oldAfter).as("events of requests to the old active after the take-over (seq %d)", takeOverSeq)
                .isEmpty();
        assertThat(newBefore).as("events of requests to the new active before its take-over").isEmpty();
        assertThat(trail.stream().filter(e -> ((String) Optional.ofNullable(e.get("requestId")).orElse(""))
                .startsWith(oldName + "-")).count()).as("the old active's audited requests").isPositive();
        return trail;
    }

    /**
     * Two actives never ran the scheduler at once: each overdue version was flagged once, and each version of
     * the secret that rotates when overdue got one SCHEDULED rotation, across both actives.
     */
    private void assertSchedulerRanOncePerTick(ServiceProcess active, String token, List<Map<String, Object>> trail) {
        Map<String, Long> flags = trail.stream().filter(e -> "flagged".equals(e.get("environment"))
                        && "secret.overdue".equals(e.get("action")))
                .collect(Collectors.groupingBy(e -> e.get("target") + " v" + details(e).get("version"),
                        Collectors.counting()));
        assertThat(flags).as("secret.overdue events per version").isNotEmpty();
        assertThat(flags.values()).as("each overdue version flagged once: " + flags).allMatch(n -> n == 1);
        List<Map<String, Object>> scheduled = scheduled(active, token);
        Map<Object, Long> perVersion = scheduled.stream().collect(Collectors.groupingBy(r -> r.get("fromVersion"),
                Collectors.counting()));
        assertThat(perVersion).as("SCHEDULED rotations").isNotEmpty();
        assertThat(perVersion.values()).as("one SCHEDULED rotation per version: " + perVersion).allMatch(n -> n == 1);
        assertThat(scheduled.stream().map(r -> r.get("requestedBy")).distinct().toList()).containsExactly("scheduler");
    }

    private static List<Map<String, Object>> scheduled(ServiceProcess service, String token) {
        return as(service, token).get("/api/v1/rotations?environment=rotated&kind=SCHEDULED&limit=1000").then()
                .statusCode(200).extract().jsonPath().getList("$");
    }

    private static List<Map<String, Object>> overdueFlags(ServiceProcess service, String token) {
        return as(service, token).get("/api/v1/audit/events?action=secret.overdue&environment=flagged").then()
                .statusCode(200).extract().jsonPath().getList("$");
    }

    // ---- traffic -----------------------------------------------------------------------------------

    /**
     * Rotations (prod and staging, alternately) and audited env-file fetches against {@code service}, each
     * request with an id naming {@code name}; a rotation answered 202 is acknowledged. Errors (the instance
     * dies under it) are expected and ignored: only acknowledgements count.
     */
    private void runLoad(ServiceProcess service, String name, String token, Queue<String> acknowledged,
                         AtomicInteger fetched) {
        AtomicInteger n = new AtomicInteger();
        load.submit(() -> {
            String[] envs = {"prod", "staging"};
            while (loadRuns.get()) {
                try {
                    String env = envs[n.get() % 2];
                    Response r = as(service, token).header("X-Request-Id", name + "-rotate-" + n.incrementAndGet())
                            .contentType(ContentType.JSON).body(Map.of("reason", "failover test"))
                            .post("/api/v1/environments/" + env + "/secrets/LTC_SECRET_KEY/rotations");
                    if (r.statusCode() == 202) {
                        acknowledged.add(r.jsonPath().getString("id"));
                    }
                } catch (RuntimeException e) {
                    pauseAfterError();
                }
            }
        });
        load.submit(() -> {
            while (loadRuns.get()) {
                try {
                    Response r = as(service, token).header("X-Request-Id", name + "-fetch-" + n.incrementAndGet())
                            .get("/api/v1/environments/prod/env-file");
                    if (r.statusCode() == 200) {
                        fetched.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    pauseAfterError();
                }
            }
        });
    }

    private static void pauseAfterError() {
        try {
            Thread.sleep(Poll.INTERVAL.toMillis()); // a dead instance refuses at once: no request storm
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- instances ---------------------------------------------------------------------------------

    private ServiceProcess startHealthy(String name, String storeUrl) {
        ServiceProcess service = ServiceProcess.dev(tmp, dataDir(name), policies, fileRoot)
                .property("ltc-secrets.master-key-file", tmp.resolve("master.key").toString())
                .property("ltc-secrets.store", "postgresql")
                .property("ltc-secrets.store.url", storeUrl)
                .property("ltc-secrets.store.username", TestPostgres.USER)
                .property("ltc-secrets.ha.advertise-url", advertised(name))
                .property("ltc-secrets.scheduler.check-every", "1s")
                .log(tmp.resolve(name + ".log"))
                .start();
        cleanup.add(0, service);
        service.awaitHealthy(START);
        return service;
    }

    private Path dataDir(String name) {
        return tmp.resolve("data-" + name);
    }

    /** The URL each instance advertises: a name, so the test can tell them apart in headers and the trail. */
    private static String advertised(String name) {
        return "http://instance-" + name + ".test:8300";
    }

    private static String role(ServiceProcess service) {
        return health(service).map(h -> new JsonPath(h.body()).getString("role")).orElse("?");
    }

    private static Optional<HttpResponse<String>> health(ServiceProcess service) {
        return service.get("/health");
    }

    /** Polls until the instance answers /health 200 as active; returns how long that took. */
    private static Duration awaitActive(ServiceProcess service) {
        long t0 = System.nanoTime();
        Poll.atMost(TAKEOVER).alias("the standby answers /health 200 role active").until(() -> health(service)
                .filter(h -> h.statusCode() == 200 && "active".equals(new JsonPath(h.body()).getString("role")))
                .isPresent());
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** Polls until the new active takes a write (a principal created: 201); returns how long that took. */
    private static Duration awaitFirstWrite(ServiceProcess service, String token) {
        long t0 = System.nanoTime();
        AtomicInteger n = new AtomicInteger();
        Poll.atMost(TAKEOVER).alias("a write on the new active").until(() -> as(service, token)
                .header("X-Request-Id", "b-write-" + n.incrementAndGet()).contentType(ContentType.JSON)
                .body(Map.of("name", "after-failover-" + n.get(), "role", "auditor"))
                .post("/api/v1/principals").statusCode() == 201);
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** The whole trail, page by page; a short page is the last (each read of a page adds an event itself). */
    private static List<Map<String, Object>> trail(ServiceProcess service, String token) {
        List<Map<String, Object>> all = new ArrayList<>();
        long after = 0;
        while (true) {
            List<Map<String, Object>> page = as(service, token).get("/api/v1/audit/events?limit=1000&after=" + after)
                    .then().statusCode(200).extract().jsonPath().getList("$");
            all.addAll(page);
            if (page.size() < 1000) {
                return all;
            }
            after = seq(page.get(page.size() - 1));
        }
    }

    private static long seq(Map<String, Object> event) {
        return ((Number) event.get("seq")).longValue();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> details(Map<String, Object> event) {
        Object d = event.get("details");
        return d instanceof Map<?, ?> m ? (Map<String, Object>) m : new HashMap<>();
    }

    private static String schedulerPolicy(String env, String whenOverdue) {
        return """
                environment: %s
                envFile:
                  path: /etc/lifetimecircle/%s.env
                  mode: "0600"
                variables:
                  LTC_ENV: %s
                secrets:
                  LTC_SECRET_KEY:
                    rotateEvery: PT6S
                    warnBefore: PT2S
                    previousGrace: PT2S
                    whenOverdue: %s
                """.formatted(env, env, env, whenOverdue);
    }
}
