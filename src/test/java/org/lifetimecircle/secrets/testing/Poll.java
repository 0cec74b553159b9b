package org.lifetimecircle.secrets.testing;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * How tests wait for something that happens on its own time (a rotation job, a flush, a log line):
 * Awaitility, checking at once and then every {@link #INTERVAL} until the deadline. Never a hot loop:
 * each check of the API is a request, and most requests write an audit event.
 */
public final class Poll {

    /** Short enough not to slow a test down, long enough that a poll loop is not a request storm. */
    public static final Duration INTERVAL = Duration.ofMillis(25);

    private Poll() {
    }

    /** A condition checked at once and every {@link #INTERVAL}, failing after {@code deadline}. */
    public static ConditionFactory atMost(Duration deadline) {
        return Awaitility.await().atMost(deadline).pollDelay(Duration.ZERO).pollInterval(INTERVAL);
    }
}
