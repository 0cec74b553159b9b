package org.lifetimecircle.secrets.audit;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.lifetimecircle.secrets.web.ApiException;

/**
 * What request-handling services use to change state: the change runs on the single writer with
 * its audit event, and the request counts as recorded. Refusals ({@link ApiException}) and
 * failures are recorded too, as FAILED events with the problem code.
 */
@ApplicationScoped
public class AuditService {

    private final AuditWriter writer;
    private final AuditContext context;

    AuditService(AuditWriter writer, AuditContext context) {
        this.writer = writer;
        this.context = context;
    }

    /**
     * Runs {@code work} as a mutation recorded as {@code action}. {@code details} turns the result
     * into the event's details: names, ids and fingerprints only.
     */
    public <R> R mutate(String action, String environment, String target, Supplier<R> work,
                        Function<R, Map<String, Object>> details) {
        AuditDraft base = context.draft(action, environment, target, Outcome.SUCCESS, Map.of());
        context.markRecorded();
        return writer.submit(new Unit<>(work,
                r -> base.withOutcome(Outcome.SUCCESS, details.apply(r)),
                e -> base.withOutcome(outcomeOf(e), failureDetails(e))));
    }

    /** Records a read (or another action without a change) of the current request. */
    public void read(String action, String environment, String target, Map<String, Object> details) {
        context.markRecorded();
        writer.record(context.draft(action, environment, target, Outcome.SUCCESS, details));
    }

    /** The outcome of an action stopped by {@code e}: by its problem's status ({@link Outcome#ofRefusal}). */
    static Outcome outcomeOf(RuntimeException e) {
        return e instanceof ApiException api ? Outcome.ofRefusal(api.code().status()) : Outcome.FAILED;
    }

    /** The details of a failed action: the problem code, never the exception's message. */
    public static Map<String, Object> failureDetails(RuntimeException e) {
        if (e instanceof ApiException api) {
            return Map.of("code", api.code().code(), "status", api.code().status());
        }
        return Map.of("code", "internal-error", "status", 500);
    }
}
