package org.lifetimecircle.secrets.scheduler;

import static org.lifetimecircle.secrets.db.ReadTransaction.read;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.lifetimecircle.secrets.access.Expiring;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.NothingToDo;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;

/**
 * Records the moment grants and tokens lapse: expiry already takes effect on the next request (the
 * access check compares with the clock), so this only makes it visible in the audit trail, one
 * {@code grant.expire} or {@code token.expire} event per grant or token, marked so it is never
 * recorded twice. Revoked ones are not recorded again: their revocation was. Which rows are due and
 * the mark are access's ({@link Expiring}); the events are the scheduler's.
 */
@ApplicationScoped
class Expiries {

    /** Enough for any real backlog in one run; the rest follows in the next. */
    private static final int BATCH = 500;

    private final AuditWriter writer;
    private final Expiring expiring;

    Expiries(AuditWriter writer, Expiring expiring) {
        this.writer = writer;
        this.expiring = expiring;
    }

    /** Records every grant and token that expired at or before {@code now}; returns how many. */
    int record(Instant now) {
        long at = Clocks.truncate(now).toEpochMilli();
        int recorded = 0;
        for (Expiring.DueGrant g : read(() -> expiring.grants(at, BATCH))) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("grant", g.id());
            d.put("principal", g.principal());
            d.put("permission", g.permission());
            d.put("expiresAt", g.expiresAt().toString());
            if (mark(() -> expiring.markGrant(g.id(), at), AuditDraft.by(Actors.SCHEDULER)
                    .action("grant.expire").environment(g.environment()).target(g.id()).details(d))) {
                recorded++;
            }
        }
        for (Expiring.DueToken t : read(() -> expiring.tokens(at, BATCH))) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("token", t.id());
            d.put("principal", t.principal());
            d.put("expiresAt", t.expiresAt().toString());
            if (mark(() -> expiring.markToken(t.id(), at), AuditDraft.by(Actors.SCHEDULER)
                    .action("token.expire").target(t.id()).details(d))) {
                recorded++;
            }
        }
        return recorded;
    }

    // The mark and its event in one commit; a row marked meanwhile (a parallel run) records nothing.
    private boolean mark(BooleanSupplier markOwnerRow, AuditDraft event) {
        try {
            return writer.submit(new Unit<>(() -> {
                if (!markOwnerRow.getAsBoolean()) {
                    throw new NothingToDo();
                }
                return true;
            }, ok -> event, null));
        } catch (NothingToDo e) {
            return false;
        }
    }
}
