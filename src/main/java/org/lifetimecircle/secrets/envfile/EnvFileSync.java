package org.lifetimecircle.secrets.envfile;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.restorehold.EnvFileHold;
import org.lifetimecircle.secrets.restorehold.ReleaseSync;
import org.lifetimecircle.secrets.secret.CurrentValues;
import org.lifetimecircle.secrets.secret.SecretValues;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.ProblemCode;

/**
 * The one way an env file is written from the CURRENT versions: under the environment's lock, render them
 * ({@link EnvFileRenderer}), write the file atomically and check it ({@link EnvFileService}, {@link EnvFileWriter}),
 * record the write ({@link EnvFileStates}) with its audit event, and zero the rendered bytes. The callers differ
 * only in what they may replace and how the write is recorded, one method each:
 * <ul>
 * <li>{@link #sync}/{@link #bringUpToDate}: start-up, recovery, a PREVIOUS version's grace ended, a hold released:
 *   written only if the file differs from what the CURRENT versions render (content, mode, owner, group); a file
 *   someone else wrote is left alone (logged), never overwritten. Audited {@code envfile.write} with a cause.</li>
 * <li>{@link #repair}: drift repair: written over whatever is there, a symbolic link included (replaced, never
 *   followed). Audited {@code envfile.write} with a cause.</li>
 * <li>{@link #restore}: a rotation that replaced the file did not go through: the CURRENT versions' file is put
 *   back. Not recorded: the record still describes that file; the rotation's journal says what happened.</li>
 * <li>{@link #writeOnRequest}: {@code POST …/env-file/write}: always written; a file someone else wrote is refused
 *   (409). The write runs inside the request's own audited mutation, so a failed write is audited FAILED.</li>
 * </ul>
 * Every write but the emergency's is refused while a restore's hold is in force ({@link EnvFileService#write});
 * the emergency writes its own file ({@link EnvFileService#overwriteWithFreshValues}).
 */
@ApplicationScoped
public class EnvFileSync implements ReleaseSync {

    private static final Logger LOG = Logger.getLogger(EnvFileSync.class);

    /** What a sync did. */
    public enum Result {
        WRITTEN, AS_RENDERED, LEFT_ALONE, NO_CURRENT
    }

    /**
     * What a sync did, what is on disk if it wrote ({@code written}, else null), and in words for a journal or a
     * log ({@code detail}: {@code "written (fingerprint=hmac-sha256:…)"}, {@code "already as rendered"}, or why
     * nothing was written).
     */
    public record Synced(Result result, EnvFileWriter.WriteResult written, String detail) {
    }

    /**
     * What {@code POST …/env-file/write} answers. {@code sha256} is always null: a plain hash of the file
     * would let a caller who may write but not read it (a security engineer) confirm a guessed value
     * offline; {@code fingerprint} is the keyed {@code hmac-sha256:} fingerprint that identifies the content.
     */
    public record Written(String path, String mode, String sha256, String fingerprint, long bytes,
                          String secretVersion) {
    }

    /** How one caller's sync differs from the others'. */
    private enum How {
        SYNC(true, true, false, true),
        REPAIR(false, false, true, true),
        RESTORE(false, false, false, false),
        ON_REQUEST(false, true, false, false);

        /** Nothing is written when the file is already what the CURRENT versions render. */
        final boolean onlyIfDifferent;
        /** Only a missing file or one this service wrote is replaced; anything else is left alone. */
        final boolean onlyOurs;
        /** A symbolic link at the target is replaced (never followed); otherwise the write is refused. */
        final boolean replaceLink;
        /** The file on disk is compared with what was rendered first: the audit event says how it differed. */
        final boolean comparesFirst;

        How(boolean onlyIfDifferent, boolean onlyOurs, boolean replaceLink, boolean comparesFirst) {
            this.onlyIfDifferent = onlyIfDifferent;
            this.onlyOurs = onlyOurs;
            this.replaceLink = replaceLink;
            this.comparesFirst = comparesFirst || onlyIfDifferent;
        }
    }

    /**
     * Runs the write ({@code write.get()}) and records it. {@code before}: how the file differed from what was
     * rendered, null if it did not or was not compared.
     */
    @FunctionalInterface
    private interface Recording {
        EnvFileWriter.WriteResult write(Supplier<EnvFileWriter.WriteResult> write, String secretVersions,
                                        String before);
    }

    private static final Recording NOT_RECORDED = (write, secretVersions, before) -> write.get();

    private final CurrentValues currentValues;
    private final EnvFileService files;
    private final EnvFileStates states;
    private final AuditWriter writer;
    private final AuditService audit;
    private final EnvFileHold hold;
    private final Clock clock;

    EnvFileSync(CurrentValues currentValues, EnvFileService files, EnvFileStates states, AuditWriter writer,
                AuditService audit, EnvFileHold hold, Clock clock) {
        this.currentValues = currentValues;
        this.files = files;
        this.states = states;
        this.writer = writer;
        this.audit = audit;
        this.hold = hold;
        this.clock = clock;
    }

    /** {@link #bringUpToDate}, logging a file that cannot be written instead of throwing. */
    @Override
    public void sync(EnvironmentPolicy p, String cause, String actor) {
        try {
            bringUpToDate(p, cause, actor);
        } catch (EnvFileWriteException e) {
            LOG.errorf("environment %s: cannot write the env file: %s", p.environment(), e.getMessage());
        }
    }

    /**
     * Writes the env file if it differs from what the CURRENT versions render, unless someone else's file is
     * there (left alone, logged). Audited as {@code envfile.write} by {@code actor} with {@code cause}.
     *
     * @throws EnvFileWriteException if the file cannot be written
     */
    public Synced bringUpToDate(EnvironmentPolicy p, String cause, String actor) {
        Synced synced = sync(p, How.SYNC, audited(p, cause, actor));
        if (synced.result() == Result.LEFT_ALONE) {
            LOG.warnf("environment %s: %s exists and was not written by ltc-secrets; left alone. Remove it, "
                    + "or adopt its value with POST /api/v1/environments/%s/secrets/{name}/import",
                    p.environment(), files.target(p), p.environment());
        }
        return synced;
    }

    /**
     * Rewrites the env file from the CURRENT versions even though it is not what this service wrote
     * (drift repair): over changed content or mode, and over a link put in its place (the link is
     * replaced, never followed). Audited as {@code envfile.write} by {@code actor} with {@code cause}.
     *
     * @throws EnvFileWriteException if the file cannot be written (a directory in its place, say)
     */
    public void repair(EnvironmentPolicy p, String cause, String actor) {
        sync(p, How.REPAIR, audited(p, cause, actor));
    }

    /**
     * Puts the CURRENT versions' file back after a rotation that replaced it did not go through. False (and
     * logged) if that failed too.
     */
    public boolean restore(EnvironmentPolicy p) {
        String why;
        try {
            Synced synced = sync(p, How.RESTORE, NOT_RECORDED);
            if (synced.result() == Result.WRITTEN) {
                return true;
            }
            why = synced.detail();
        } catch (RuntimeException e) {
            why = e.getClass().getSimpleName();
        }
        LOG.errorf("environment %s: could not restore the env file after a failed rotation (%s); "
                + "POST /api/v1/environments/%s/env-file/write once the cause is fixed", p.environment(), why,
                p.environment());
        return false;
    }

    /**
     * {@code POST …/env-file/write}: writes the env file from the CURRENT versions, audited as the request's
     * {@code envfile.write}. 409 while a restore's hold is in force, while a secret has no CURRENT version,
     * and when the file at the path was not written by this service.
     */
    public Written writeOnRequest(EnvironmentPolicy policy) {
        hold.requireReleased();
        String[] versions = new String[1];
        Synced synced = sync(policy, How.ON_REQUEST, (write, secretVersions, before) -> {
            versions[0] = secretVersions;
            return audit.mutate("envfile.write", policy.environment(), null, () -> {
                EnvFileWriter.WriteResult result;
                try {
                    result = write.get();
                } catch (EnvFileWriteException e) {
                    throw new ApiException(ProblemCode.ENV_FILE_UNWRITABLE, e.getMessage());
                }
                states.recordWrite(policy, result, secretVersions, Clocks.now(clock));
                return result;
            }, result -> {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("path", policy.envFile().path());
                d.put("fingerprint", result.fingerprint());
                d.put("secretVersions", secretVersions);
                return d;
            });
        });
        return switch (synced.result()) {
            case NO_CURRENT -> throw ApiException.conflict("environment '" + policy.environment()
                    + "' has a secret without a CURRENT version yet");
            case LEFT_ALONE -> throw ApiException.conflict("the file at " + policy.envFile().path() + " was not "
                    + "written by ltc-secrets; remove it, or adopt its value with POST …/secrets/{name}/import");
            case WRITTEN, AS_RENDERED -> new Written(policy.envFile().path(), synced.written().mode(), null,
                    synced.written().fingerprint(), synced.written().bytes(), versions[0]);
        };
    }

    /**
     * The sync itself, under the environment's lock (re-entrant: a rotation that holds it may restore): render the
     * CURRENT versions, decide per {@code how} whether to write, and write through {@code recording}.
     */
    private Synced sync(EnvironmentPolicy p, How how, Recording recording) {
        ReentrantLock lock = files.lock(p.environment());
        lock.lock();
        try {
            Map<String, SecretValues> values = QuarkusTransaction.requiringNew()
                    .call(() -> currentValues.values(p, currentValues.slots(p.environment()))).orElse(null);
            if (values == null) {
                return new Synced(Result.NO_CURRENT, null, "not written: a secret has no CURRENT version");
            }
            byte[] content = EnvFileRenderer.render(p, values);
            try {
                // Content, mode, owner and group: a policy's new mode is applied like new content.
                String problem = how.comparesFirst ? files.problemWith(p, files.fingerprint(content), content.length)
                        : null;
                if (problem == null && how.onlyIfDifferent) {
                    return new Synced(Result.AS_RENDERED, null, "already as rendered");
                }
                if (how.onlyOurs && !files.absentOrOurs(p)) {
                    return new Synced(Result.LEFT_ALONE, null, "left alone: the file at " + p.envFile().path()
                            + " was not written by ltc-secrets");
                }
                EnvFileWriter.WriteResult written = recording.write(() -> how.replaceLink ? files.overwrite(p, content)
                        : files.write(p, content), EnvFileService.versions(values), problem);
                return new Synced(Result.WRITTEN, written, "written (fingerprint=" + written.fingerprint() + ")");
            } finally {
                Arrays.fill(content, (byte) 0);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Writes, then records the write with its {@code envfile.write} event by {@code actor} with {@code cause}. */
    private Recording audited(EnvironmentPolicy p, String cause, String actor) {
        return (write, secretVersions, before) -> {
            EnvFileWriter.WriteResult written = write.get();
            writer.submit(new Unit<>(() -> {
                states.recordWrite(p, written, secretVersions, Clocks.now(clock));
                return null;
            }, x -> {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("path", p.envFile().path());
                d.put("fingerprint", written.fingerprint());
                d.put("secretVersions", secretVersions);
                d.put("cause", cause);
                d.put("before", before == null ? "the file was as rendered" : "the file " + before);
                return AuditDraft.by(actor).action("envfile.write").environment(p.environment()).details(d);
            }, null));
            return written;
        };
    }
}
