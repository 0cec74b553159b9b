package org.lifetimecircle.secrets.policy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How to restart the application that reads the env file, how to tell that it came back healthy, and
 * (optionally) the user it runs as, whose access to the data and storage paths preflight checks.
 */
public record AppPolicy(List<String> restartCommand, URI healthUrl, Duration restartTimeout, Duration healthTimeout,
                        Optional<String> user) {

    /** An app section without {@code user}. */
    public AppPolicy(List<String> restartCommand, URI healthUrl, Duration restartTimeout, Duration healthTimeout) {
        this(restartCommand, healthUrl, restartTimeout, healthTimeout, Optional.empty());
    }

    public AppPolicy {
        java.util.Objects.requireNonNull(user, "user");
        user.ifPresent(u -> Rules.check("app.user", Rules.userProblem(u)));
        restartCommand = List.copyOf(restartCommand);
        Rules.check("app.restartCommand", restartCommand.isEmpty() ? "must not be empty" : null);
        for (int i = 0; i < restartCommand.size(); i++) {
            Rules.check("app.restartCommand[" + i + "]", Rules.commandArgumentProblem(restartCommand.get(i)));
        }
        Rules.check("app.healthUrl", Rules.healthUrlProblem(healthUrl));
        Rules.check("app.restartTimeout", Rules.positiveProblem(restartTimeout));
        Rules.check("app.healthTimeout", Rules.positiveProblem(healthTimeout));
    }
}
