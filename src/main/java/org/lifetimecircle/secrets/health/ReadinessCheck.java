package org.lifetimecircle.secrets.health;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** {@code /q/health/ready}: the same checks as {@code /health}, in SmallRye Health's format. */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements HealthCheck {

    private final ServiceHealth health;

    ReadinessCheck(ServiceHealth health) {
        this.health = health;
    }

    @Override
    public HealthCheckResponse call() {
        var builder = HealthCheckResponse.named("ltc-secrets");
        boolean up = true;
        for (ServiceHealth.Check c : health.checks()) {
            builder.withData(c.name(), c.up() ? "UP" : "DOWN");
            if (!c.up()) {
                builder.withData(c.name() + "-reason", c.reason());
            }
            up &= c.up();
        }
        return builder.status(up).build();
    }
}
