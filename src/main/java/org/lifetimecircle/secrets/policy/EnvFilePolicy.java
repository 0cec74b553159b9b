package org.lifetimecircle.secrets.policy;

import java.util.Objects;
import java.util.Optional;

/** Where an environment's env file is written, with which mode and group, and what to do when it drifts. */
public record EnvFilePolicy(String path, FileMode mode, Optional<String> group, DriftAction onDrift) {

    public EnvFilePolicy {
        Rules.check("envFile.path", Rules.absolutePathProblem(path));
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(onDrift, "onDrift");
        if (group.isPresent()) {
            // With 0600 a group could never read the file, so naming one is a mistake worth stopping on.
            Rules.check("envFile.group", mode == FileMode.M0640 ? null : "only allowed with mode \"0640\"");
            Rules.check("envFile.group", Rules.groupProblem(group.get()));
        }
    }
}
