package org.lifetimecircle.secrets.rotation;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.lifetimecircle.secrets.config.Clocks;

/**
 * Journal steps made outside the writer (the env file written, the app restarted, its health checked), each
 * stamped when it happened and recorded ({@link #persist}) with the commit that ends the stage: a crash before
 * that commit leaves none of them, and start-up recovery finds the rotation as it was.
 */
final class StageSteps {

    /** One step; {@code detail} holds names, versions, fingerprints and reasons only, never a value. */
    record Step(String name, StepStatus status, Instant at, String detail) {
    }

    private final Clock clock;
    private final List<Step> steps = new ArrayList<>();
    private LiveSteps live;
    private String rotationId;

    StageSteps(Clock clock) {
        this.clock = clock;
    }

    /** Shows each step to readers of the rotation as soon as it is made ({@link LiveSteps}), before the commit. */
    StageSteps shownLive(LiveSteps live, String rotationId) {
        this.live = live;
        this.rotationId = rotationId;
        publish();
        return this;
    }

    /** A copy to go on from (a rollback adds its steps to the failed stage's). */
    StageSteps copy() {
        StageSteps copy = new StageSteps(clock);
        copy.steps.addAll(steps);
        copy.live = live;
        copy.rotationId = rotationId;
        return copy;
    }

    StageSteps add(String name, StepStatus status, String detail) {
        steps.add(new Step(name, status, Clocks.now(clock), detail));
        publish();
        return this;
    }

    void addAll(StageSteps other) {
        steps.addAll(other.steps);
        publish();
    }

    private void publish() {
        if (live != null) {
            live.show(rotationId, List.copyOf(steps));
        }
    }

    /** The steps so far, in order. */
    List<Step> steps() {
        return List.copyOf(steps);
    }

    /** The first step that FAILED, if one did. */
    Optional<String> firstFailed() {
        return steps.stream().filter(s -> s.status() == StepStatus.FAILED).map(Step::name).findFirst();
    }

    /** Records the steps in the rotation's journal; inside the writer unit that ends the stage. */
    void persist(String rotationId) {
        steps.forEach(s -> RotationStepEntity.of(rotationId, s.name(), s.status(), s.at(), s.detail()).persist());
    }
}
