package org.lifetimecircle.secrets.scheduler;

import static org.lifetimecircle.secrets.db.ReadTransaction.read;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.alert.Alerts;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.NothingToDo;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.OverdueAction;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.rotation.EmergencyService;
import org.lifetimecircle.secrets.rotation.RotationEntity;
import org.lifetimecircle.secrets.rotation.RotationKind;
import org.lifetimecircle.secrets.rotation.RotationRepository;
import org.lifetimecircle.secrets.rotation.RotationService;
import org.lifetimecircle.secrets.secret.CurrentValues;
import org.lifetimecircle.secrets.secret.RotationDue;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/**
 * Each secret's due state (OK, DUE_SOON, OVERDUE) as the scheduler last recorded it: a change is
 * written with one audit event ({@code secret.due-soon}, {@code secret.overdue}, {@code secret.ok})
 * and raises one alert, however many runs see the same state. An OVERDUE secret is then handled per
 * {@code whenOverdue}: {@code rotate} requests one SCHEDULED rotation away from that version (a
 * failed one is alerted, not retried: the secret stays OVERDUE for a person to look at);
 * {@code emergency} starts the emergency procedure. Both decisions are taken from the database, so a
 * crash between the event and the action only delays the action to the next run.
 */
@ApplicationScoped
class DueStates {

    private static final Logger LOG = Logger.getLogger(DueStates.class);

    private final EnvironmentRegistry environments;
    private final CurrentValues currentValues;
    private final RotationRepository rotations;
    private final RotationService rotationService;
    private final EmergencyService emergencies;
    private final AuditWriter writer;
    private final Alerts alerts;
    private final EntityManager em;

    DueStates(EnvironmentRegistry environments, CurrentValues currentValues, RotationRepository rotations,
              RotationService rotationService, EmergencyService emergencies, AuditWriter writer, Alerts alerts,
              EntityManager em) {
        this.environments = environments;
        this.currentValues = currentValues;
        this.rotations = rotations;
        this.rotationService = rotationService;
        this.emergencies = emergencies;
        this.writer = writer;
        this.alerts = alerts;
        this.em = em;
    }

    /** Records every change of state at {@code now} and acts on overdue secrets; returns how many changed. */
    int check(Instant now) {
        int changed = 0;
        for (EnvironmentPolicy p : environments.all()) {
            Map<String, CurrentValues.Slot> slots = read(() -> currentValues.slots(p.environment()));
            boolean emergencyDue = false;
            for (SecretPolicy s : p.secrets().values()) {
                CurrentValues.Slot slot = slots.get(s.name());
                if (slot == null) {
                    continue;
                }
                SecretVersionEntity current = slot.current();
                RotationDue due = RotationDue.of(s, current.createdAt, now);
                if (transition(p, s, current.version, due, now)) {
                    changed++;
                }
                if (due.status() == RotationDue.Status.OVERDUE) {
                    if (s.whenOverdue() == OverdueAction.ROTATE) {
                        rotate(p, s, current.version, due);
                    } else if (s.whenOverdue() == OverdueAction.EMERGENCY) {
                        emergencyDue = true;
                    }
                }
            }
            if (emergencyDue) {
                emergency(p);
            }
        }
        return changed;
    }

    /** Writes the new state with its event if it differs from the recorded one (no row means OK). */
    private boolean transition(EnvironmentPolicy p, SecretPolicy s, long version, RotationDue due, Instant now) {
        String status = due.status().name();
        String recorded = read(() -> recorded(p.environment(), s.name(), version));
        if (recorded.equals(status)) {
            return false;
        }
        String action = switch (due.status()) {
            case OK -> "secret.ok";
            case DUE_SOON -> "secret.due-soon";
            case OVERDUE -> "secret.overdue";
        };
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("version", version);
        d.put("status", status);
        d.put("previousStatus", recorded);
        d.put("dueAt", due.dueAt().toString());
        d.put("ageSeconds", due.ageSeconds());
        d.put("whenOverdue", s.whenOverdue().yamlName());
        try {
            writer.submit(new Unit<>(() -> {
                // Someone else (a parallel run in a test, say) may have recorded it meanwhile.
                if (recorded(p.environment(), s.name(), version).equals(status)) {
                    throw new NothingToDo();
                }
                em.createNativeQuery("insert into secret_due_state (environment, secret, version, status, since) "
                                + "values (?1, ?2, ?3, ?4, ?5) on conflict (environment, secret) do update set "
                                + "version = excluded.version, status = excluded.status, since = excluded.since")
                        .setParameter(1, p.environment()).setParameter(2, s.name()).setParameter(3, version)
                        .setParameter(4, status).setParameter(5, Clocks.truncate(now).toEpochMilli()).executeUpdate();
                return null;
            }, x -> AuditDraft.by(Actors.SCHEDULER).action(action).environment(p.environment())
                    .target(s.name()).details(d), null));
        } catch (NothingToDo e) {
            return false;
        }
        String summary = switch (due.status()) {
            case OK -> s.name() + " is no longer due (version " + version + ")";
            case DUE_SOON -> s.name() + " is due for rotation at " + due.dueAt() + " (version " + version + ")";
            case OVERDUE -> s.name() + " is OVERDUE since " + due.dueAt() + " (version " + version
                    + "); whenOverdue: " + s.whenOverdue().yamlName();
        };
        alerts.raise(action, p.environment(), summary, d);
        return true;
    }

    /** The recorded state of this version; a row about an older version (or none) means OK. */
    private String recorded(String environment, String secret, long version) {
        List<?> rows = em.createNativeQuery("select status from secret_due_state where environment = ?1 "
                        + "and secret = ?2 and version = ?3").setParameter(1, environment).setParameter(2, secret)
                .setParameter(3, version).getResultList();
        if (!rows.isEmpty()) {
            return (String) rows.get(0);
        }
        // A new CURRENT starts OK; a row of an older version that was not OK is the one change to record.
        List<?> older = em.createNativeQuery("select status from secret_due_state where environment = ?1 "
                + "and secret = ?2").setParameter(1, environment).setParameter(2, secret).getResultList();
        return older.isEmpty() ? "OK" : (String) older.get(0);
    }

    private void rotate(EnvironmentPolicy p, SecretPolicy s, long version, RotationDue due) {
        boolean tried = read(() -> rotations.scheduledFrom(p.environment(), s.name(), version)
                || rotations.active(p.environment(), s.name()).isPresent()
                || rotations.activeIn(p.environment()).stream().anyMatch(r -> r.kind == RotationKind.EMERGENCY));
        if (tried) {
            return;
        }
        try {
            RotationEntity r = rotationService.requestAs(Actors.SCHEDULER, p, s, RotationKind.SCHEDULED,
                    new Reason("whenOverdue: rotate; version " + version + " overdue since " + due.dueAt()));
            LOG.infof("environment %s: %s overdue; SCHEDULED rotation %s requested", p.environment(), s.name(), r.id);
        } catch (ApiException e) {
            // A rotation started between the check and the request; it is recorded as a FAILED request.
            LOG.infof("environment %s: SCHEDULED rotation of %s not started: %s", p.environment(), s.name(),
                    e.getMessage());
        }
    }

    private void emergency(EnvironmentPolicy p) {
        boolean running = read(() -> rotations.activeIn(p.environment()).stream()
                .anyMatch(r -> r.kind == RotationKind.EMERGENCY));
        if (running) {
            return;
        }
        try {
            RotationEntity r = emergencies.requestAs(Actors.SCHEDULER, p,
                    new Reason("whenOverdue: emergency; a secret of " + p.environment() + " is overdue"));
            LOG.warnf("environment %s: overdue with whenOverdue: emergency; emergency rotation %s started",
                    p.environment(), r.id);
        } catch (ApiException e) {
            LOG.infof("environment %s: emergency rotation not started: %s", p.environment(), e.getMessage());
        }
    }
}
