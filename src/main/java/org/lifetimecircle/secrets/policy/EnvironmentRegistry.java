package org.lifetimecircle.secrets.policy;

import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.lifetimecircle.secrets.web.ApiException;

/** The environments served: one per policy file, loaded and validated once at start. */
@ApplicationScoped
public class EnvironmentRegistry {

    private static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,32}");

    private volatile Map<String, EnvironmentPolicy> policies;

    /** Loads every policy; throws {@link org.lifetimecircle.secrets.policy.PolicyException} naming file, field, reason. */
    public void load(Path policiesDir) {
        load(policiesDir, Map.of());
    }

    /** Loads every policy, then applies the app overrides of a laptop (validated like the policy's app section). */
    public void load(Path policiesDir, Map<String, AppOverride> appOverrides) {
        Map<String, EnvironmentPolicy> loaded = new TreeMap<>();
        for (EnvironmentPolicy p : AppOverride.apply(PolicyLoader.loadAll(policiesDir), appOverrides)) {
            loaded.put(p.environment(), p);
        }
        policies = Collections.unmodifiableMap(loaded);
    }

    /** Whether policies have been loaded (health). */
    public boolean loaded() {
        return policies != null;
    }

    public List<EnvironmentPolicy> all() {
        return policies == null ? List.of() : List.copyOf(policies.values());
    }

    public Optional<EnvironmentPolicy> find(String environment) {
        return policies == null ? Optional.empty() : Optional.ofNullable(policies.get(environment));
    }

    /** Whether a text is a well-formed environment name (whether or not a policy names it). */
    public static boolean validName(String environment) {
        return environment != null && NAME.matcher(environment).matches();
    }

    /** The policy of a path parameter: 400 if malformed, 404 if no policy names it. */
    public EnvironmentPolicy require(String environment) {
        if (!validName(environment)) {
            throw ApiException.invalid("environment must match [a-z0-9-]{1,32}");
        }
        return find(environment).orElseThrow(() -> ApiException.notFound("no environment '" + environment + "'"));
    }
}
