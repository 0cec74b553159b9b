package org.lifetimecircle.secrets.db;

import io.quarkus.narayana.jta.QuarkusTransaction;
import java.util.function.Supplier;

/**
 * A read in a transaction of its own, for code that runs outside a request's or a writer unit's
 * transaction (scheduled jobs, metric scrapes, start-up, preflight): entities and lazy associations
 * need one, and a transaction of its own sees one consistent snapshot of the database.
 *
 * <p>Reads only. Nothing changes rows here: every change goes through the single audit writer
 * ({@code audit.AuditWriter}), so that it commits with its audit event. Inside a writer unit read
 * directly instead (a new transaction would not see the unit's own changes).
 */
public final class ReadTransaction {

    private ReadTransaction() {
    }

    /** Runs {@code work} in a new transaction and returns its result; the transaction then ends. */
    public static <T> T read(Supplier<T> work) {
        return QuarkusTransaction.requiringNew().call(work::get);
    }
}
