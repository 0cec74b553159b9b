package org.lifetimecircle.secrets.scheduler;

import org.lifetimecircle.secrets.rotation.IncidentReviews;
import static org.lifetimecircle.secrets.db.ReadTransaction.read;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.vertx.http.runtime.filters.Filters;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.config.ConfigProvider;
import org.lifetimecircle.secrets.envfile.EnvFileStates;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.rotation.RotationKind;
import org.lifetimecircle.secrets.rotation.RotationRepository;
import org.lifetimecircle.secrets.startup.DataReady;

/**
 * What an SRE alerts on besides each secret's age (see {@code SecretMetrics}):
 * {@code ltc_rotations_total{environment,kind,outcome}} (finished rotations, counted from the journal,
 * so they survive restarts), {@code ltc_envfile_drift{environment}} (1 while the file differs from what
 * was written), {@code ltc_envfile_drift_events_total{environment}}, and the scheduler's own
 * {@code ltc_scheduler_last_success_timestamp_seconds} and {@code ltc_scheduler_runs_total{outcome}}, and
 * {@code ltc_incidents_unreviewed} (emergencies awaiting a second person's review for more than a day).
 */
@ApplicationScoped
public class SchedulerMetrics {

    /** Finished rotation statuses, as the {@code outcome} label. */
    private static final List<String> OUTCOMES = List.of("COMPLETED", "FAILED", "ROLLED_BACK");
    /** How long one query's rotation counts serve a scrape's many series. */
    private static final long COUNTS_TTL_NANOS = 1_000_000_000L;

    private final MeterRegistry registry;
    private final EnvironmentRegistry environments;
    private final RotationRepository rotations;
    private final EnvFileStates states;
    private final AtomicLong lastSuccessSeconds = new AtomicLong();
    private final Map<String, Counter> driftEvents = new HashMap<>();
    private volatile Counter successfulRuns;
    private volatile Counter failedRuns;
    private volatile Counts counts = new Counts(System.nanoTime() - 2 * COUNTS_TTL_NANOS, Map.of());
    private volatile long scrapeStartedAt = System.nanoTime();

    /** The finished rotations as one query saw them, and when that query started ({@link System#nanoTime}). */
    private record Counts(long queriedAt, Map<String, Long> byKey) {
    }

    @jakarta.inject.Inject
    IncidentReviews reviews;

    SchedulerMetrics(MeterRegistry registry, EnvironmentRegistry environments, RotationRepository rotations,
                     EnvFileStates states) {
        this.registry = registry;
        this.environments = environments;
        this.rotations = rotations;
        this.states = states;
    }

    void onDataReady(@Observes DataReady ready) {
        register();
    }

    // A database that cannot answer reports NaN (no sample), never a misleading 0.
    private double unreviewed() {
        try {
            return reviews.overdue().size();
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Registers the meters; called once the schema exists and the policies are loaded. */
    public synchronized void register() {
        Gauge.builder("ltc_scheduler_last_success_timestamp_seconds", lastSuccessSeconds, AtomicLong::doubleValue)
                .description("when the scheduler last completed a run without an error (Unix seconds; 0: never)")
                .register(registry);
        successfulRuns = Counter.builder("ltc_scheduler_runs").description("scheduler runs by outcome")
                .tags("outcome", "success").register(registry);
        failedRuns = Counter.builder("ltc_scheduler_runs").description("scheduler runs by outcome")
                .tags("outcome", "failure").register(registry);
        Gauge.builder("ltc_incidents_unreviewed", this, SchedulerMetrics::unreviewed)
                .description("emergencies in environments with two-person approval that a second person has not "
                        + "reviewed for more than a day")
                .register(registry);
        for (EnvironmentPolicy p : environments.all()) {
            String env = p.environment();
            for (RotationKind kind : RotationKind.values()) {
                for (String outcome : OUTCOMES) {
                    String key = env + "/" + kind.name() + "/" + outcome;
                    FunctionCounter.builder("ltc_rotations", this, m -> m.count(key))
                            .description("finished rotations by kind and outcome")
                            .tags("environment", env, "kind", kind.name(), "outcome", outcome).register(registry);
                }
            }
            Gauge.builder("ltc_envfile_drift", () -> drifting(env))
                    .description("1 while the env file on disk is not what ltc-secrets wrote, else 0")
                    .tags("environment", env).register(registry);
            driftEvents.put(env, Counter.builder("ltc_envfile_drift_events")
                    .description("drifts of the env file detected (each distinct difference once)")
                    .tags("environment", env).register(registry));
        }
    }

    /**
     * Each scrape of the metrics endpoint reads the rotation counts afresh: a cache that only expired
     * by time let a scrape right after a rotation ended FAILED still report 0 for up to a second.
     */
    void scrapesReadFreshCounts(@Observes Filters filters) {
        String path = ConfigProvider.getConfig().getOptionalValue("quarkus.micrometer.export.prometheus.path",
                String.class).orElse("/q/metrics");
        filters.register(rc -> {
            if (path.equals(rc.normalizedPath())) {
                scrapeStartedAt = System.nanoTime();
            }
            rc.next();
        }, 500);
    }

    void driftDetected(String environment) {
        Counter c = driftEvents.get(environment);
        if (c != null) {
            c.increment();
        }
    }

    void runFinished(Instant at, boolean success) {
        if (success) {
            lastSuccessSeconds.set(at.getEpochSecond());
        }
        Counter runs = success ? successfulRuns : failedRuns;
        if (runs != null) { // null only before the start-up sequence registered the meters
            runs.increment();
        }
    }

    /**
     * One query serves every series of a scrape: the counts are reused while they were queried after
     * the current scrape began (so they include every rotation finished before it) and are under a
     * second old (scrapes that bypass the endpoint, e.g. a registry read in-process).
     */
    private double count(String key) {
        long now = System.nanoTime();
        Counts c = counts;
        if (c.queriedAt() - scrapeStartedAt <= 0 || now - c.queriedAt() > COUNTS_TTL_NANOS) {
            Map<String, Long> fresh = new HashMap<>();
            for (Object[] row : read(rotations::finishedCounts)) {
                fresh.put(row[0] + "/" + row[1] + "/" + row[2], ((Number) row[3]).longValue());
            }
            c = new Counts(now, Map.copyOf(fresh));
            counts = c;
        }
        return c.byKey().getOrDefault(key, 0L);
    }

    private double drifting(String environment) {
        return read(() -> states.drifting(environment)) ? 1 : 0;
    }
}
