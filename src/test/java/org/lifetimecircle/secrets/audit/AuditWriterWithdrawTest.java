package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Security review (issue 18): a 503 {@code unavailable} did not mean nothing changed. The caller
 * gave up after its timeout, but its unit stayed queued and committed later: a rotation accepted
 * that way had no job and blocked every retry with 409. A unit the writer has not started when its
 * caller gives up is withdrawn and never runs. The writer is held inside another unit (a latch, not
 * a pause), so "not started" is a fact.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class AuditWriterWithdrawTest {

    @Inject
    AuditWriter writer;

    private static AuditDraft event(String action) {
        return AuditDraft.by(Actors.SYSTEM).action(action);
    }

    @Test
    void aUnitWhoseCallerGaveUpBeforeItStartedNeverRuns() throws Exception {
        AtomicBoolean ran = new AtomicBoolean();
        try (HeldWriter held = HeldWriter.hold(writer)) {
            assertThatThrownBy(() -> writer.submit(new Unit<Void>(() -> {
                ran.set(true);
                return null;
            }, x -> event("test.withdrawn"), null), Duration.ofMillis(200)))
                    .isInstanceOf(AuditUnavailableException.class);
        }
        // A later unit commits after the withdrawn one's turn: by then it would have run.
        writer.submit(new Unit<Void>(() -> null, x -> event("test.after"), null));

        assertThat(ran).as("the withdrawn unit's work ran").isFalse();
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'test.withdrawn'")).isZero();
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'test.after'")).isEqualTo(1);
    }

    /**
     * A caller interrupted while the writer already runs its unit (the auth-denial flusher at shutdown)
     * still gets the unit's outcome: it used to get a 503-like refusal at once although the unit then
     * committed, and the flusher counted the same 401s again (AuthDenialsIT saw 1450 of 1300).
     */
    @Test
    void aCallerInterruptedWhileItsUnitRunsStillGetsItsOutcome() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Object> answer = new AtomicReference<>();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        Thread caller = new Thread(() -> {
            try {
                answer.set(writer.submit(new Unit<>(() -> {
                    inside.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return "done";
                }, x -> event("test.interrupted-caller"), null)));
            } catch (RuntimeException e) {
                answer.set(e);
            }
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        }, "interrupted-caller");
        caller.start();
        assertThat(inside.await(30, TimeUnit.SECONDS)).as("the writer runs the unit").isTrue();
        caller.interrupt();
        release.countDown();
        caller.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(answer.get()).as("the interrupted caller's answer").isEqualTo("done");
        assertThat(stillInterrupted).as("the caller's interrupt is kept for it").isTrue();
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'test.interrupted-caller'"))
                .isEqualTo(1);
    }
}
