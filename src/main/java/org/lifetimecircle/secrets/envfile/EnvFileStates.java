package org.lifetimecircle.secrets.envfile;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Instant;
import java.util.Optional;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;

/**
 * The {@code env_file_state} table, one row per environment ({@link EnvFileStateEntity}): what this service
 * last wrote to its env file, and the drift the scheduler found since. The one class that reads or changes
 * it. Changes go inside the writer unit that audits them; reads inside a transaction.
 */
@ApplicationScoped
public class EnvFileStates {

    private final EntityManager em;

    EnvFileStates(EntityManager em) {
        this.em = em;
    }

    /** What this service last wrote to the environment's file; empty if it never wrote one. */
    public Optional<EnvFileStateEntity> lastWrite(String environment) {
        return Optional.ofNullable(em.find(EnvFileStateEntity.class, environment));
    }

    /** Records a write (and ends any drift: the file was just written and checked). */
    public void recordWrite(EnvironmentPolicy policy, EnvFileWriter.WriteResult result, String secretVersions,
                            Instant at) {
        EnvFileStateEntity s = em.find(EnvFileStateEntity.class, policy.environment());
        if (s == null) {
            s = new EnvFileStateEntity();
            s.environment = policy.environment();
            fill(s, policy, result, secretVersions, at);
            em.persist(s);
        } else {
            fill(s, policy, result, secretVersions, at);
        }
    }

    /**
     * Records a drift: how the file differs ({@code problem}), what was on disk ({@code observed}, to tell
     * the next difference from this one) and since when. Nothing without a record of a write.
     */
    public void recordDrift(String environment, String problem, String observed, Instant since) {
        lastWrite(environment).ifPresent(s -> {
            s.drift = problem;
            s.driftObserved = observed;
            s.driftSince = Clocks.truncate(since);
        });
    }

    /** The file is as written again: the drift is over. */
    public void driftOver(String environment) {
        lastWrite(environment).ifPresent(EnvFileStates::clearDrift);
    }

    /** Whether a drift of the environment's file is recorded. */
    public boolean drifting(String environment) {
        return lastWrite(environment).map(s -> s.drift != null).orElse(false);
    }

    private static void fill(EnvFileStateEntity s, EnvironmentPolicy policy, EnvFileWriter.WriteResult result,
                             String secretVersions, Instant at) {
        s.path = policy.envFile().path();
        s.mode = result.mode();
        s.fingerprint = result.fingerprint();
        s.bytes = result.bytes();
        s.secretVersions = secretVersions;
        s.writtenAt = at;
        clearDrift(s);
    }

    private static void clearDrift(EnvFileStateEntity s) {
        s.drift = null;
        s.driftObserved = null;
        s.driftSince = null;
    }
}
