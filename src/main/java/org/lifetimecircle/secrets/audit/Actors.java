package org.lifetimecircle.secrets.audit;

import java.util.Set;

/**
 * The actors of events no principal caused. An event's actor is otherwise the name of the principal
 * whose token made the request; these names are reserved, so no principal can take one.
 */
public final class Actors {

    /** The service itself: start-up, recovery, bootstrap, key re-wrap, holds. */
    public static final String SYSTEM = "system";
    /** Scheduled work: housekeeping, due states, expiries, retirement, archiving, checkpoints. */
    public static final String SCHEDULER = "scheduler";
    /** A request without a valid token. */
    public static final String ANONYMOUS = "anonymous";

    /** All of the above: names no principal may have. */
    public static final Set<String> ALL = Set.of(SYSTEM, SCHEDULER, ANONYMOUS);

    private Actors() {
    }
}
