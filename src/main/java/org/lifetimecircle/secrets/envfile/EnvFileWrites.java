package org.lifetimecircle.secrets.envfile;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.secret.CurrentValues;
import org.lifetimecircle.secrets.secret.SecretValues;
import org.lifetimecircle.secrets.web.ApiException;

/**
 * Renders an environment's env file from its CURRENT versions for serving it ({@code GET …/env-file}), without a
 * transaction. Writing it is {@link EnvFileSync}.
 */
@ApplicationScoped
public class EnvFileWrites {

    /** The rendered file with what identifies it; {@code content} holds secrets. */
    public record Rendered(byte[] content, String sha256, String secretVersions) {
        @Override
        public String toString() {
            return "Rendered[sha256=" + sha256 + ", secretVersions=" + secretVersions + "]";
        }
    }

    private final CurrentValues currentValues;
    private final EnvFileService files;
    @jakarta.inject.Inject
    org.lifetimecircle.secrets.restorehold.EnvFileHold hold;

    EnvFileWrites(CurrentValues currentValues, EnvFileService files) {
        this.currentValues = currentValues;
        this.files = files;
    }

    /** The keyed fingerprint of rendered content, for audit details (never its plain hash). */
    public String fingerprint(byte[] content) {
        return files.fingerprint(content);
    }

    /** 409 while a restore's hold is in force: no env file is written or served until an admin releases it. */
    public void requireNotHeld() {
        hold.requireReleased();
    }

    /** The env file as it is (or would be) on disk: byte for byte what a write would put there. */
    public Rendered render(EnvironmentPolicy policy) {
        // No transaction: one autocommit statement reads a consistent set of rows (see readableSlots).
        Map<String, SecretValues> values = currentValues.values(policy, currentValues.readableSlots(policy.environment()))
                .orElseThrow(() -> ApiException.conflict("environment '" + policy.environment()
                        + "' has a secret without a CURRENT version yet"));
        byte[] content = EnvFileRenderer.render(policy, values);
        return new Rendered(content, EnvFileRenderer.sha256Hex(content), EnvFileService.versions(values));
    }
}
