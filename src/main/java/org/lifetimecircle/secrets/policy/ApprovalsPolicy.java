package org.lifetimecircle.secrets.policy;

import java.time.Duration;
import java.util.Objects;

/**
 * Two-person approval on one environment: whether a grant, and whether a MANUAL, ROLLBACK or IMPORT
 * rotation, waits for a second person, and how long an unanswered request stays open. An EMERGENCY
 * never waits: it is reviewed afterwards instead.
 */
public record ApprovalsPolicy(boolean grants, boolean rotations, Duration expireAfter) {

    public static final Duration DEFAULT_EXPIRE_AFTER = Duration.ofHours(24);
    static final Duration SHORTEST = Duration.ofMinutes(1);
    static final Duration LONGEST = Duration.ofDays(7);

    public ApprovalsPolicy {
        Objects.requireNonNull(expireAfter, "expireAfter");
        Rules.check("approvals.expireAfter", expireAfterProblem(expireAfter));
    }

    /** Whether anything on the environment waits for a second person (then emergencies need a review). */
    public boolean any() {
        return grants || rotations;
    }

    static String expireAfterProblem(Duration d) {
        return d.compareTo(SHORTEST) < 0 || d.compareTo(LONGEST) > 0 ? "must be between PT1M and P7D" : null;
    }
}
