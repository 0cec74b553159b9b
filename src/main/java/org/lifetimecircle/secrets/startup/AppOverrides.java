package org.lifetimecircle.secrets.startup;

import io.quarkus.runtime.LaunchMode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.policy.AppOverride;

/**
 * Decides whether {@code ltc-secrets.app-override.*} applies. It exists for {@code ./mvnw quarkus:dev} on a
 * laptop, so it applies in dev mode and tests only: the packaged jar (how every host runs the service) never
 * lets configuration replace what a policy restarts, whatever profile it runs; under the prod profile a
 * configured override stops the start, so nobody believes it took effect.
 */
final class AppOverrides {

    private static final Logger LOG = Logger.getLogger(AppOverrides.class);

    private AppOverrides() {
    }

    static Map<String, AppOverride> effective(LtcSecretsConfig config, LaunchMode mode, List<String> profiles) {
        Map<String, AppOverride> configured = new TreeMap<>();
        config.appOverride().forEach((env, o) -> {
            if (o.restartCommand().isPresent() || o.healthUrl().isPresent()) {
                configured.put(env, new AppOverride(o.restartCommand(), o.healthUrl()));
            }
        });
        return effective(configured, mode, profiles);
    }

    /** The overrides that apply in this launch mode and these profiles; refuses any under the prod profile. */
    static Map<String, AppOverride> effective(Map<String, AppOverride> configured, LaunchMode mode,
                                              List<String> profiles) {
        if (configured.isEmpty()) {
            return Map.of();
        }
        if (profiles.contains("prod")) {
            throw new StartupRefusedException(AppOverride.PREFIX + "* is set (" + String.join(", ", configured.keySet())
                    + ") but the prod profile never overrides a policy's app section: remove it and put the"
                    + " restart command and health URL in the policy");
        }
        if (mode == LaunchMode.NORMAL) {
            LOG.infof("%s* ignored: it applies under ./mvnw quarkus:dev only; the packaged jar restarts what"
                    + " the policies say", AppOverride.PREFIX);
            return Map.of();
        }
        configured.forEach((env, o) -> LOG.infof("environment %s: app %s%s (%s%s, dev mode only)", env,
                o.restartCommand().map(c -> "restart command " + c).orElse(""),
                o.healthUrl().map(u -> (o.restartCommand().isPresent() ? ", " : "") + "health URL " + u).orElse(""),
                AppOverride.PREFIX, env));
        return configured;
    }
}
