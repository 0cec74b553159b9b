package org.lifetimecircle.secrets.startup;

import java.util.StringJoiner;

/**
 * The duration of each step of the start-up sequence, in the order they ran: "schema 12 ms, audit writer 3 ms, …".
 * Logged at DEBUG when the start completes, so a slow start can be profiled without a profiler
 * ({@code -Dquarkus.log.category."org.lifetimecircle.secrets.startup".level=DEBUG}).
 */
final class StepTimes {

    private final StringJoiner done = new StringJoiner(", ");
    private long since = System.nanoTime();

    /** Starts timing the next step from now (what came before it is not counted). */
    synchronized void start() {
        since = System.nanoTime();
    }

    /** Records the step that ran since the last call. */
    synchronized void done(String step) {
        long now = System.nanoTime();
        done.add(step + " " + (now - since) / 1_000_000 + " ms");
        since = now;
    }

    @Override
    public synchronized String toString() {
        return done.toString();
    }
}
