package org.lifetimecircle.secrets.audit;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One unit of work for the single writer: a mutation (possibly none) and the audit event that
 * records it. The mutation runs inside the writer's transaction; its event commits with it.
 *
 * @param work      the change; runs on the writer thread inside a savepoint. Returns the caller's result.
 * @param onSuccess the event recording a successful change, built from its result
 * @param onFailure the event recording a refused or failed change; null records nothing
 */
public record Unit<R>(Supplier<R> work, Function<R, AuditDraft> onSuccess,
                      Function<RuntimeException, AuditDraft> onFailure) {

    public Unit {
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(onSuccess, "onSuccess");
    }

    private static final Supplier<Object> NO_WORK = () -> null;

    /** A unit that only records an event (a read, a denial). */
    @SuppressWarnings("unchecked")
    public static Unit<Void> eventOnly(AuditDraft draft) {
        return new Unit<>((Supplier<Void>) (Supplier<?>) NO_WORK, r -> draft, null);
    }

    /** Whether this unit changes nothing but the trail: the writer can record it without a Hibernate session. */
    boolean eventOnly() {
        return work == NO_WORK;
    }
}
