package org.lifetimecircle.secrets.environment;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.envfile.EnvFileStateEntity;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.secret.CurrentValues;
import org.lifetimecircle.secrets.secret.RotationDue;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;

/** Builds an environment's detail view: each secret's CURRENT version, age and due state, and the env file. */
@ApplicationScoped
class EnvironmentStatus {

    private final CurrentValues currentValues;
    private final EnvFileService files;
    private final Clock clock;

    EnvironmentStatus(CurrentValues currentValues, EnvFileService files, Clock clock) {
        this.currentValues = currentValues;
        this.files = files;
        this.clock = clock;
    }

    EnvironmentViews.Detail detail(EnvironmentPolicy p) {
        Instant now = clock.instant();
        Map<String, CurrentValues.Slot> slots = currentValues.slots(p.environment());
        List<EnvironmentViews.SecretStatus> secrets = p.secrets().values().stream()
                .map(s -> status(s, slots.get(s.name()), now)).toList();
        EnvFileStateEntity last = files.lastWrite(p.environment()).orElse(null);
        EnvironmentViews.EnvFile envFile = new EnvironmentViews.EnvFile(p.envFile().path(), p.envFile().mode().octal(),
                last == null ? null : last.writtenAt, null, last == null ? null : last.keyedFingerprint(),
                last == null ? null : last.secretVersions, !files.absentOrOurs(p),
                last == null || last.drift == null ? null : "the file " + last.drift,
                last == null ? null : last.driftSince);
        return new EnvironmentViews.Detail(p.environment(), List.copyOf(p.variables().keySet()), secrets, envFile);
    }

    private static EnvironmentViews.SecretStatus status(SecretPolicy s, CurrentValues.Slot slot, Instant now) {
        if (slot == null) {
            return EnvironmentViews.SecretStatus.unversioned(s.name());
        }
        SecretVersionEntity current = slot.current();
        RotationDue due = RotationDue.of(s, current.createdAt, now);
        return new EnvironmentViews.SecretStatus(s.name(), current.version, current.createdAt, due.ageSeconds(),
                due.dueAt(), due.status().name());
    }
}
