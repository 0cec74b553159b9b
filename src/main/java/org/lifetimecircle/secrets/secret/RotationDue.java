package org.lifetimecircle.secrets.secret;

import java.time.Duration;
import java.time.Instant;
import org.lifetimecircle.secrets.policy.SecretPolicy;

/**
 * When a secret's CURRENT value is due for rotation and how that compares with now: OK, DUE_SOON
 * (within {@code warnBefore} of the due time) or OVERDUE. The age counts from the value's creation:
 * a rolled-back value is as old as it ever was.
 */
public record RotationDue(Instant createdAt, Instant dueAt, long ageSeconds, Status status) {

    /** The contract's three states. */
    public enum Status { OK, DUE_SOON, OVERDUE }

    public static RotationDue of(SecretPolicy policy, Instant createdAt, Instant now) {
        Instant due = createdAt.plus(policy.rotateEvery());
        Status status = !now.isBefore(due) ? Status.OVERDUE
                : !now.isBefore(due.minus(policy.warnBefore())) ? Status.DUE_SOON : Status.OK;
        long age = Math.max(0, Duration.between(createdAt, now).getSeconds());
        return new RotationDue(createdAt, due, age, status);
    }
}
