package org.lifetimecircle.secrets.policy;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A laptop's replacement for a policy's app restart command and health URL (config
 * {@code ltc-secrets.app-override.<env>.restart-command} and {@code .health-url}): the sample policies
 * restart a systemd unit that a laptop does not have, so the dev profile points them at {@code demo-app/}.
 * The policy files stay as they are; the override is checked by the same rules as the policy's app section.
 */
public record AppOverride(Optional<List<String>> restartCommand, Optional<URI> healthUrl) {

    /** The config prefix, for messages. */
    public static final String PREFIX = "ltc-secrets.app-override.";

    public AppOverride {
        Objects.requireNonNull(restartCommand, "restartCommand");
        Objects.requireNonNull(healthUrl, "healthUrl");
        restartCommand = restartCommand.map(List::copyOf);
    }

    /**
     * The policies with their app sections overridden, or a {@link PolicyException} naming the config key:
     * an override of an environment no policy names, of a policy without an {@code app} section, or with a
     * value the policy's own rules refuse.
     */
    public static List<EnvironmentPolicy> apply(List<EnvironmentPolicy> policies, Map<String, AppOverride> overrides) {
        for (String env : overrides.keySet()) {
            if (policies.stream().noneMatch(p -> p.environment().equals(env))) {
                throw new PolicyException(PREFIX + env, "(environment)", "no policy names environment '" + env
                        + "'; policies: " + String.join(", ", policies.stream().map(EnvironmentPolicy::environment).toList()));
            }
        }
        List<EnvironmentPolicy> result = new ArrayList<>();
        for (EnvironmentPolicy p : policies) {
            AppOverride o = overrides.get(p.environment());
            result.add(o == null ? p : o.applyTo(p));
        }
        return List.copyOf(result);
    }

    private EnvironmentPolicy applyTo(EnvironmentPolicy p) {
        String key = PREFIX + p.environment();
        if (restartCommand.isEmpty() && healthUrl.isEmpty()) {
            return p;
        }
        AppPolicy app = p.app().orElseThrow(() -> new PolicyException(key, "(environment)",
                "the policy " + p.sourceFile() + " has no app section to override"));
        AppPolicy overridden;
        try {
            overridden = new AppPolicy(restartCommand.orElse(app.restartCommand()), healthUrl.orElse(app.healthUrl()),
                    app.restartTimeout(), app.healthTimeout(), app.user());
        } catch (IllegalArgumentException e) {
            // "app.restartCommand[0]: reason" -> ltc-secrets.app-override.prod.restart-command[0]: reason
            String message = String.valueOf(e.getMessage());
            int colon = message.indexOf(": ");
            String field = colon < 0 ? "app" : message.substring(0, colon);
            String reason = colon < 0 ? message : message.substring(colon + 2);
            throw new PolicyException(key, field.replace("app.restartCommand", "restart-command")
                    .replace("app.healthUrl", "health-url"), reason);
        }
        return new EnvironmentPolicy(p.environment(), p.sourceFile(), p.envFile(), p.variables(), p.secrets(),
                Optional.of(overridden), p.paths(), p.grants(), p.approvals());
    }
}
