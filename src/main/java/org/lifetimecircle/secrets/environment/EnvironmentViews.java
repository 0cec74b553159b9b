package org.lifetimecircle.secrets.environment;

import java.time.Instant;
import java.util.List;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;

/** Response bodies of the environment endpoints. Names only: never a value. */
final class EnvironmentViews {

    private EnvironmentViews() {
    }

    /** One entry of {@code GET /environments}. */
    record Summary(String name, String envFilePath, List<String> secrets, boolean hasApp) {
        static Summary of(EnvironmentPolicy p) {
            return new Summary(p.environment(), p.envFile().path(), List.copyOf(p.secrets().keySet()), p.app().isPresent());
        }
    }

    /** {@code GET /environments/{env}}. */
    record Detail(String name, List<String> variables, List<SecretStatus> secrets, EnvFile envFile) {
    }

    /** A secret's state; version fields are null until the secret has a version. */
    record SecretStatus(String name, Long currentVersion, Instant createdAt, Long ageSeconds, Instant rotationDueAt,
                        String status) {
        static SecretStatus unversioned(String name) {
            return new SecretStatus(name, null, null, null, null, null);
        }
    }

    /**
     * Where the env file goes and what was last written there. {@code conflict}: a file this service
     * did not write is in its place and is left alone (preflight fails until it is removed or imported).
     * {@code drift}: how the file on disk differs from what was last written, as the scheduler last saw it
     * (null while it does not), and since when. {@code sha256} is always null (a plain hash of the file would
     * let any metadata reader confirm a guessed value); {@code fingerprint} is the keyed {@code hmac-sha256:}
     * one of what was last written.
     */
    record EnvFile(String path, String mode, Instant lastWrittenAt, String sha256, String fingerprint,
                   String secretVersions, boolean conflict, String drift, Instant driftSince) {
    }
}
