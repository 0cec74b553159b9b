package org.lifetimecircle.secrets.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.approval.ApprovalService;
import org.lifetimecircle.secrets.audit.AuditArchiver;
import org.lifetimecircle.secrets.ha.Leadership;
import org.lifetimecircle.secrets.rotation.IncidentReviews;
import org.lifetimecircle.secrets.rotation.PreviousRetirement;
import org.lifetimecircle.secrets.rotation.RotationEngine;
import org.lifetimecircle.secrets.startup.StartupSequence;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Found by drills/soak.sh (issue 25): on every graceful stop, a scheduler tick that came after the audit
 * writer had stopped logged each of its steps as failed at ERROR ("due states failed
 * (AuditUnavailableException)"). Once the shutdown begins no tick runs. A Housekeeping of its own, built from
 * the application's beans, so the shared one keeps running for the other tests.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class SchedulerShutdownTest {

    @Inject
    DueStates dueStates;
    @Inject
    PreviousRetirement retirement;
    @Inject
    DriftCheck drift;
    @Inject
    Expiries expiries;
    @Inject
    AuditArchiver archiver;
    @Inject
    SchedulerMetrics metrics;
    @Inject
    StartupSequence startup;
    @Inject
    Leadership leadership;
    @Inject
    RotationEngine engine;
    @Inject
    Clock clock;
    @Inject
    ApprovalService approvals;
    @Inject
    IncidentReviews reviews;
    @Inject
    MeterRegistry registry;
    @Inject
    io.quarkus.scheduler.Scheduler triggers;

    @Test
    void noTickRunsOnceTheShutdownBegan() {
        Housekeeping scheduler = new Housekeeping(dueStates, retirement, drift, expiries, archiver, metrics, startup,
                leadership, engine, clock, approvals, reviews, triggers);
        double before = runs();
        scheduler.tick();
        assertThat(runs()).as("a tick runs while the service is up").isEqualTo(before + 1);
        assertThat(triggers.isRunning()).as("triggers fire while the service is up").isTrue();

        try {
            scheduler.onShutdown(null);
            scheduler.tick();
            assertThat(runs()).as("no tick runs after the shutdown began").isEqualTo(before + 1);
            assertThat(triggers.isRunning()).as("no trigger fires after the shutdown began").isFalse();
        } finally {
            triggers.resume(); // the application's scheduler, shared with the tests after this one
        }
    }

    /** Every finished run, whatever its outcome ({@code ltc_scheduler_runs_total}). */
    private double runs() {
        return registry.find("ltc_scheduler_runs").counters().stream().mapToDouble(Counter::count).sum();
    }
}
