package org.lifetimecircle.secrets.secret;

import static org.lifetimecircle.secrets.db.ReadTransaction.read;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.Optional;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.SecretPolicy;

/**
 * The contract's per-secret gauges at {@code /q/metrics}: {@code ltc_secret_age_seconds} and
 * {@code ltc_secret_overdue} (1 or 0), tagged by environment and secret, read from the CURRENT
 * version at scrape time so they can never lag behind a rotation.
 */
@ApplicationScoped
public class SecretMetrics {

    private final MeterRegistry registry;
    private final EnvironmentRegistry environments;
    private final SecretVersionRepository versions;
    private final Clock clock;

    SecretMetrics(MeterRegistry registry, EnvironmentRegistry environments, SecretVersionRepository versions,
                  Clock clock) {
        this.registry = registry;
        this.environments = environments;
        this.versions = versions;
        this.clock = clock;
    }

    /** Registers the gauges of every secret in the policies; called once the schema exists. */
    public void register() {
        for (EnvironmentPolicy p : environments.all()) {
            for (SecretPolicy s : p.secrets().values()) {
                Gauge.builder("ltc_secret_age_seconds", () -> due(p, s).map(RotationDue::ageSeconds).orElse(0L))
                        .description("age of the CURRENT version in seconds")
                        .tags("environment", p.environment(), "secret", s.name()).register(registry);
                Gauge.builder("ltc_secret_overdue", () -> due(p, s)
                                .map(d -> d.status() == RotationDue.Status.OVERDUE ? 1 : 0).orElse(0))
                        .description("1 if the CURRENT version is past rotateEvery, else 0")
                        .tags("environment", p.environment(), "secret", s.name()).register(registry);
                Gauge.builder("ltc_secret_due_soon", () -> due(p, s)
                                .map(d -> d.status() == RotationDue.Status.DUE_SOON ? 1 : 0).orElse(0))
                        .description("1 if the CURRENT version is within warnBefore of rotateEvery, else 0")
                        .tags("environment", p.environment(), "secret", s.name()).register(registry);
            }
        }
    }

    private Optional<RotationDue> due(EnvironmentPolicy p, SecretPolicy s) {
        // Scrapes come on threads without a request scope: read in a transaction of their own.
        return read(() -> versions.inState(p.environment(), s.name(),
                        VersionState.CURRENT))
                .map(v -> RotationDue.of(s, v.createdAt, clock.instant()));
    }
}
