package org.lifetimecircle.secrets.policy;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/** How to restart the application that reads the env file, and how to tell that it came back healthy. */
public record AppPolicy(List<String> restartCommand, URI healthUrl, Duration restartTimeout, Duration healthTimeout) {

    public AppPolicy {
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
