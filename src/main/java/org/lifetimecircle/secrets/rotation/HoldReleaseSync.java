package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.restorehold.EnvFileSync;

/** The env-file sync a released hold asks for: the same one a start does ({@link RotationStartup#sync}). */
@ApplicationScoped
class HoldReleaseSync implements EnvFileSync {

    private final RotationStartup rotations;

    HoldReleaseSync(RotationStartup rotations) {
        this.rotations = rotations;
    }

    @Override
    public void sync(EnvironmentPolicy policy, String cause, String actor) {
        rotations.sync(policy, cause, actor);
    }
}
