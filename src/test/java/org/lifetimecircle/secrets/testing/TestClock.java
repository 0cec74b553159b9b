package org.lifetimecircle.secrets.testing;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock tests can move forward, replacing the system clock in every {@code @QuarkusTest}, so
 * expiry is tested by moving time instead of sleeping. It starts at the real time and only ever
 * moves forward, so tests that do not touch it see ordinary time passing.
 */
@ApplicationScoped
public class TestClock {

    private static final MovableClock CLOCK = new MovableClock();

    @Produces
    @Alternative
    @Priority(1)
    @ApplicationScoped
    Clock clock() {
        return CLOCK;
    }

    /** The application's current time: tests compare with this, never with the wall clock. */
    public static Instant now() {
        return CLOCK.instant();
    }

    /** Moves time forward for the running application. */
    public static void advance(Duration d) {
        CLOCK.advance(d);
    }

    static final class MovableClock extends Clock {
        private volatile Duration offset = Duration.ZERO;

        synchronized void advance(Duration d) {
            offset = offset.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.now().plus(offset);
        }
    }
}
