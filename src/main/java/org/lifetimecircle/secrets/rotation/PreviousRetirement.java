package org.lifetimecircle.secrets.rotation;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.NothingToDo;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.envfile.EnvFileSync;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;
import org.lifetimecircle.secrets.secret.SecretVersionRepository;
import org.lifetimecircle.secrets.secret.VersionState;

/**
 * Ends each PREVIOUS version's grace: once {@code previousGrace} has passed since it stopped being
 * CURRENT it becomes RETIRED with its ciphertext destroyed (audited {@code secret.retire}, actor
 * {@code scheduler}), and an env file that exported it under {@code exportPreviousAs} is rewritten.
 * Called by the scheduler's run.
 *
 * <p>Each environment is handled under its lock, and a secret with a PENDING or RUNNING rotation (or
 * an environment with an active emergency) keeps its PREVIOUS until a later run: a queued ROLLBACK
 * needs it, and would otherwise be left PENDING or RUNNING with nothing to promote.
 */
@ApplicationScoped
public class PreviousRetirement {


    private final SecretVersionRepository versions;
    private final EnvironmentRegistry environments;
    private final AuditWriter writer;
    private final EnvFileSync files;
    private final RotationRepository rotations;
    private final EnvFileService envFiles;

    PreviousRetirement(SecretVersionRepository versions, EnvironmentRegistry environments, AuditWriter writer,
                       EnvFileSync files, RotationRepository rotations, EnvFileService envFiles) {
        this.rotations = rotations;
        this.envFiles = envFiles;
        this.versions = versions;
        this.environments = environments;
        this.writer = writer;
        this.files = files;
    }

    /** Retires every PREVIOUS version whose grace ended before {@code now}; returns how many. */
    public int retireExpired(Instant now) {
        int retired = 0;
        for (EnvironmentPolicy p : environments.all()) {
            ReentrantLock lock = envFiles.lock(p.environment());
            lock.lock();
            try {
                retired += retireExpired(p, now);
            } finally {
                lock.unlock();
            }
        }
        return retired;
    }

    /** One environment's part; its lock is held, so no rotation of it can start or promote meanwhile. */
    private int retireExpired(EnvironmentPolicy p, Instant now) {
        int retired = 0;
        boolean rewrite = false;
        for (SecretPolicy s : p.secrets().values()) {
            Optional<SecretVersionEntity> previous = QuarkusTransaction.requiringNew()
                    .call(() -> versions.inState(p.environment(), s.name(), VersionState.PREVIOUS));
            if (previous.isEmpty() || previous.get().previousSince == null
                    || now.isBefore(previous.get().previousSince.plus(s.previousGrace()))) {
                continue;
            }
            long version = previous.get().version;
            try {
                writer.submit(new Unit<>(() -> {
                    // A rotation of the secret (a ROLLBACK needs its PREVIOUS) or an emergency is
                    // pending or running: keep it until a later run.
                    if (rotations.activeIn(p.environment()).stream()
                            .anyMatch(a -> a.kind == RotationKind.EMERGENCY || s.name().equals(a.secret))) {
                        throw new NothingToDo();
                    }
                    // Still PREVIOUS? A rotation may have retired it meanwhile: then there is
                    // nothing to retire and nothing to record.
                    SecretVersionEntity v = versions.version(p.environment(), s.name(), version)
                            .filter(x -> x.state == VersionState.PREVIOUS).orElseThrow(NothingToDo::new);
                    v.end(VersionState.RETIRED, Clocks.truncate(now));
                    return null;
                }, ok -> {
                    Map<String, Object> d = new LinkedHashMap<>();
                    d.put("version", version);
                    d.put("previousGrace", s.previousGrace().toString());
                    return AuditDraft.by(Actors.SCHEDULER).action("secret.retire").environment(p.environment())
                            .target(s.name()).details(d);
                }, null));
            } catch (NothingToDo e) {
                continue;
            }
            retired++;
            rewrite |= s.exportPreviousAs().isPresent();
        }
        if (rewrite) {
            files.sync(p, "a PREVIOUS version's grace ended", Actors.SCHEDULER);
        }
        return retired;
    }
}
