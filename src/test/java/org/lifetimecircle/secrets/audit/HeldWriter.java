package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The audit writer held inside a unit of the test's own until {@link #close()}: what is submitted meanwhile is
 * queued and not started, as a fact (a latch, not a pause or a sleep). Tests of what the writer does with its queue
 * (a withdrawn unit, a batch of events) start from here.
 */
final class HeldWriter implements AutoCloseable {

    private static final long SECONDS = 30;

    private final CountDownLatch release = new CountDownLatch(1);
    private final CompletableFuture<Void> blocker;

    private HeldWriter(AuditWriter writer) throws InterruptedException {
        CountDownLatch inside = new CountDownLatch(1);
        blocker = CompletableFuture.runAsync(() -> writer.submit(new Unit<Void>(() -> {
            inside.countDown();
            try {
                release.await(SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }, x -> AuditDraft.by(Actors.SYSTEM).action("test.blocker"), null)));
        assertThat(inside.await(SECONDS, TimeUnit.SECONDS)).as("the writer runs the blocking unit").isTrue();
    }

    /** Returns once the writer runs the holding unit. */
    static HeldWriter hold(AuditWriter writer) throws InterruptedException {
        return new HeldWriter(writer);
    }

    /** Lets the writer go on, and waits until the holding unit has committed. */
    @Override
    public void close() throws Exception {
        release.countDown();
        blocker.get(SECONDS, TimeUnit.SECONDS);
    }
}
