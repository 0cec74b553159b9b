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
    private final RenderedEnvFiles rendered;
    @jakarta.inject.Inject
    org.lifetimecircle.secrets.restorehold.EnvFileHold hold;

    EnvFileWrites(CurrentValues currentValues, EnvFileService files, RenderedEnvFiles rendered) {
        this.currentValues = currentValues;
        this.files = files;
        this.rendered = rendered;
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
        return render(policy, currentValues.readableSlots(policy.environment()));
    }

    private Rendered render(EnvironmentPolicy policy, Map<String, CurrentValues.Slot> slots) {
        Map<String, SecretValues> values = currentValues.values(policy, slots)
                .orElseThrow(() -> ApiException.conflict("environment '" + policy.environment()
                        + "' has a secret without a CURRENT version yet"));
        byte[] content = EnvFileRenderer.render(policy, values);
        return new Rendered(content, EnvFileRenderer.sha256Hex(content), EnvFileService.versions(values));
    }

    /**
     * {@link #render} with its keyed fingerprint, for serving it on a fetch: the rows are read from the database
     * every time, and only the decryption and rendering are skipped when they are the rows of the last file
     * served ({@link RenderedEnvFiles}).
     */
    RenderedEnvFiles.Served serve(EnvironmentPolicy policy) {
        Map<String, CurrentValues.Slot> slots = currentValues.readableSlots(policy.environment());
        RenderedEnvFiles.Served kept = rendered.find(policy, slots);
        if (kept != null) {
            return kept;
        }
        Rendered fresh = render(policy, slots);
        RenderedEnvFiles.Served served = new RenderedEnvFiles.Served(fresh.content(), fresh.sha256(),
                fingerprint(fresh.content()), fresh.secretVersions());
        rendered.keep(policy, slots, served);
        return served;
    }
}
