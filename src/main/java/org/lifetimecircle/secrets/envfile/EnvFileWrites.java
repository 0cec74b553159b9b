package org.lifetimecircle.secrets.envfile;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.secret.CurrentValues;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.ProblemCode;

/** Renders an environment's env file from its CURRENT versions: for serving it, and for writing it on request. */
@ApplicationScoped
public class EnvFileWrites {

    /** The rendered file with what identifies it; {@code content} holds secrets. */
    public record Rendered(byte[] content, String sha256, String secretVersions) {
        @Override
        public String toString() {
            return "Rendered[sha256=" + sha256 + ", secretVersions=" + secretVersions + "]";
        }
    }

    /**
     * What {@code POST …/env-file/write} answers. {@code sha256} is always null: a plain hash of the file
     * would let a caller who may write but not read it (a security engineer) confirm a guessed value
     * offline; {@code fingerprint} is the keyed {@code hmac-sha256:} fingerprint that identifies the content.
     */
    public record Written(String path, String mode, String sha256, String fingerprint, long bytes,
                          String secretVersion) {
    }

    private final CurrentValues currentValues;
    private final EnvFileService files;
    private final EnvFileStates states;
    private final AuditService audit;
    private final Clock clock;
    @jakarta.inject.Inject
    org.lifetimecircle.secrets.restorehold.EnvFileHold hold;

    EnvFileWrites(CurrentValues currentValues, EnvFileService files, EnvFileStates states, AuditService audit,
                  Clock clock) {
        this.currentValues = currentValues;
        this.files = files;
        this.states = states;
        this.audit = audit;
        this.clock = clock;
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

    /** Writes the env file from the CURRENT versions, audited; refuses to replace a file someone else wrote. */
    public Written write(EnvironmentPolicy policy) {
        hold.requireReleased();
        ReentrantLock lock = files.lock(policy.environment());
        lock.lock();
        try {
            Rendered rendered = render(policy);
            try {
                if (!files.absentOrOurs(policy)) {
                    throw ApiException.conflict("the file at " + policy.envFile().path() + " was not written by "
                            + "ltc-secrets; remove it, or adopt its value with POST …/secrets/{name}/import");
                }
                return audit.mutate("envfile.write", policy.environment(), null, () -> {
                    EnvFileWriter.WriteResult result;
                    try {
                        result = files.write(policy, rendered.content());
                    } catch (EnvFileWriteException e) {
                        throw new ApiException(ProblemCode.ENV_FILE_UNWRITABLE, e.getMessage());
                    }
                    states.recordWrite(policy, result, rendered.secretVersions(), Clocks.now(clock));
                    return new Written(policy.envFile().path(), result.mode(), null, result.fingerprint(),
                            result.bytes(), rendered.secretVersions());
                }, w -> {
                    Map<String, Object> d = new LinkedHashMap<>();
                    d.put("path", w.path());
                    d.put("fingerprint", w.fingerprint());
                    d.put("secretVersions", w.secretVersion());
                    return d;
                });
            } finally {
                Arrays.fill(rendered.content(), (byte) 0);
            }
        } finally {
            lock.unlock();
        }
    }
}
