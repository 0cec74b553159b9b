package org.lifetimecircle.secrets.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.awaitility.core.ConditionTimeoutException;

/**
 * How tests wait for something that happens on its own time (a rotation job, a flush, a log line):
 * Awaitility, checking at once and then every {@link #INTERVAL} until the deadline, in the test's own
 * thread (as a loop would: a failed assertion or a request's exception ends the wait at once). Never a
 * hot loop: each check of the API is a request, and most requests write an audit event.
 */
public final class Poll {

    /** Short enough not to slow a test down, long enough that a poll loop is not a request storm. */
    public static final Duration INTERVAL = Duration.ofMillis(25);

    private Poll() {
    }

    /** A condition checked at once and every {@link #INTERVAL}, failing after {@code deadline}. */
    public static ConditionFactory atMost(Duration deadline) {
        return Awaitility.await().atMost(deadline).pollDelay(Duration.ZERO).pollInterval(INTERVAL).pollInSameThread();
    }

    /**
     * Asks {@code probe} until {@code done} accepts its answer, and returns that answer. At the deadline it
     * fails with the last answer, as {@code show} writes it (a rotation record, a list): what it was waiting on.
     */
    public static <T> T until(String what, Duration deadline, Callable<T> probe, Predicate<? super T> done,
            Function<? super T, String> show) {
        AtomicReference<T> last = new AtomicReference<>();
        try {
            return atMost(deadline).until(() -> {
                last.set(probe.call());
                return last.get();
            }, done);
        } catch (ConditionTimeoutException e) {
            T answer = last.get();
            throw new AssertionError(what + " not reached within " + deadline + "; last answer: "
                    + (answer == null ? "none" : show.apply(answer)), e);
        }
    }
}
