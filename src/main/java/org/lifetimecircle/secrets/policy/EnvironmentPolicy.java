package org.lifetimecircle.secrets.policy;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/** One environment's validated policy: its env file, static variables, secrets, app, paths and grant limits. */
public record EnvironmentPolicy(String environment, Path sourceFile, EnvFilePolicy envFile,
                                SortedMap<String, String> variables, SortedMap<String, SecretPolicy> secrets,
                                Optional<AppPolicy> app, Optional<PathsPolicy> paths, Optional<GrantsPolicy> grants) {

    /** A policy without a {@code grants} section. */
    public EnvironmentPolicy(String environment, Path sourceFile, EnvFilePolicy envFile,
                             SortedMap<String, String> variables, SortedMap<String, SecretPolicy> secrets,
                             Optional<AppPolicy> app, Optional<PathsPolicy> paths) {
        this(environment, sourceFile, envFile, variables, secrets, app, paths, Optional.empty());
    }

    public EnvironmentPolicy {
        Rules.check("environment", Rules.environmentProblem(environment));
        Objects.requireNonNull(sourceFile, "sourceFile");
        Objects.requireNonNull(envFile, "envFile");
        Objects.requireNonNull(app, "app");
        Objects.requireNonNull(paths, "paths");
        Objects.requireNonNull(grants, "grants");
        // Copies sorted by name: the env file renders in this order, so the same policy gives the same bytes.
        variables = Collections.unmodifiableSortedMap(new TreeMap<>(variables));
        secrets = Collections.unmodifiableSortedMap(new TreeMap<>(secrets));
        for (Map.Entry<String, String> v : variables.entrySet()) {
            Rules.check("variables", Rules.variableNameProblem(v.getKey()));
            Rules.check("variables." + v.getKey(), Rules.variableValueProblem(v.getValue()));
        }
        Rules.check("secrets", secrets.isEmpty() ? "at least one secret is required" : null);
        for (Map.Entry<String, SecretPolicy> s : secrets.entrySet()) {
            Rules.check("secrets." + s.getKey(),
                    s.getKey().equals(s.getValue().name()) ? null : "key differs from the secret's name");
        }
        Rules.nameClash(variables.keySet(), secrets.values())
                .ifPresent(p -> Rules.check(p.field(), p.reason()));
    }

    /** Names variables but never shows their values, so logging a policy cannot leak one. */
    @Override
    public String toString() {
        return "EnvironmentPolicy[environment=" + environment + ", sourceFile=" + sourceFile + ", envFile=" + envFile
                + ", variables=" + variables.keySet() + ", secrets=" + secrets.values() + ", app=" + app
                + ", paths=" + paths + ", grants=" + grants + "]";
    }
}
