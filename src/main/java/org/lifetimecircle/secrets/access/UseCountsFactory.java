package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import org.lifetimecircle.secrets.audit.EventUses;

/** Gives the audit writer access's {@link UseCounts} for each connection it appends on. */
@ApplicationScoped
class UseCountsFactory implements EventUses.Factory {

    @Override
    public EventUses on(Connection c) {
        return new UseCounts(c);
    }
}
