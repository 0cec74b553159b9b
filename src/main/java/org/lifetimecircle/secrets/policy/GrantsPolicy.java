package org.lifetimecircle.secrets.policy;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Per-environment limits on access grants. {@code maxTtl} can only lower the service-wide
 * {@code ltc-secrets.grants.max-ttl}: production is where grants should be shortest.
 */
public record GrantsPolicy(Optional<Duration> maxTtl) {

    public GrantsPolicy {
        Objects.requireNonNull(maxTtl, "maxTtl");
        maxTtl.ifPresent(d -> Rules.check("grants.maxTtl",
                d.isNegative() || d.isZero() ? "must be positive" : null));
    }
}
