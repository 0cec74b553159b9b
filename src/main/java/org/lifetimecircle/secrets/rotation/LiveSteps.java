package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The steps a running job has made but not yet journaled ({@link StageSteps} records them with the commit that
 * ends the stage, so that a crash leaves none of them). {@code GET /rotations/{id}} shows them after the
 * journaled steps while the rotation runs, so a client waiting on a rotation sees the env file written and
 * the restart done as they happen, not all at once when the health check ends. Held in memory only: after a
 * crash they are gone with the stage they belonged to, as the journal's promise says.
 */
@ApplicationScoped
class LiveSteps {

    private final Map<String, List<StageSteps.Step>> running = new ConcurrentHashMap<>();

    void show(String rotationId, List<StageSteps.Step> steps) {
        running.put(rotationId, steps);
    }

    /** The job ended (its steps are journaled, or it stopped and recovery will journal its own). */
    void forget(String rotationId) {
        running.remove(rotationId);
    }

    List<StageSteps.Step> of(String rotationId) {
        return running.getOrDefault(rotationId, List.of());
    }
}
