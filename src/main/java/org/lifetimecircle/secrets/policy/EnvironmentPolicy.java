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
                                Optional<AppPolicy> app, Optional<PathsPolicy> paths, Optional<GrantsPolicy> grants,
                                Optional<ApprovalsPolicy> approvals) {

    /** A policy without an {@code approvals} section. */
    public EnvironmentPolicy(String environment, Path sourceFile, EnvFilePolicy envFile,
                             SortedMap<String, String> variables, SortedMap<String, SecretPolicy> secrets,
                             Optional<AppPolicy> app, Optional<PathsPolicy> paths, Optional<GrantsPolicy> grants) {
        this(environment, sourceFile, envFile, variables, secrets, app, paths, grants, Optional.empty());
    }

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
        Objects.requireNonNull(approvals, "approvals");
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
                + ", paths=" + paths + ", grants=" + grants + ", approvals=" + approvals + "]";
    }

    /** Whether grants on this environment wait for a second person. */
    public boolean grantsNeedApproval() {
        return approvals.map(ApprovalsPolicy::grants).orElse(false);
    }

    /** Whether MANUAL, ROLLBACK and IMPORT rotations of this environment wait for a second person. */
    public boolean rotationsNeedApproval() {
        return approvals.map(ApprovalsPolicy::rotations).orElse(false);
    }

    /**
     * SHA-256 (hex) of everything this policy says, variable values included: a request waiting for approval
     * remembers it, and is refused when the policy it was judged under has changed since.
     */
    public String fingerprint() {
        StringBuilder text = new StringBuilder(toString());
        variables.forEach((k, v) -> text.append('\n').append(k).append('=').append(v));
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
