package org.lifetimecircle.secrets.audit;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * An audit event before it has a place in the chain. Details hold names, ids, counts, codes and
 * {@code hmac-sha256:} fingerprints only — never a secret value or a token. {@code grantUse} names
 * the access grant the request relied on: a SUCCESS event counts as one use of it, recorded in the
 * same transaction as the event. {@code tokenUse} names the API token that authenticated the
 * request: whatever the outcome, the event's time becomes the token's {@code lastUsedAt}, in the
 * same commit as the event, and its id is the event's {@code details.tokenId}. The grant's id is
 * in the details too ({@code details.grant}); the use counts themselves are not part of the hashed event.
 *
 * <p>Built by name, not position: {@code AuditDraft.by(Actors.SCHEDULER).action("grant.expire")
 * .environment(env).target(id).details(d)} is a SUCCESS event with no request id or source address
 * until {@link #outcome} or {@link #request} say otherwise. A request's own events come from
 * {@link AuditContext#draft}, which fills in who and where.
 */
public record AuditDraft(String actor, String action, String environment, String target, Outcome outcome,
                         String requestId, String sourceIp, Map<String, Object> details, String grantUse,
                         String tokenUse) {

    /** An event that used no grant and no token; callers start with {@link #by}. */
    private AuditDraft(String actor, String action, String environment, String target, Outcome outcome,
                       String requestId, String sourceIp, Map<String, Object> details) {
        this(actor, action, environment, target, outcome, requestId, sourceIp, details, null, null);
    }

    /** The start of an event by {@code actor}: one of {@link Actors}, or a principal's name. */
    public static By by(String actor) {
        return new By(actor);
    }

    /** An actor waiting for its action. */
    public record By(String actor) {

        public By {
            Objects.requireNonNull(actor, "actor");
        }

        /** A SUCCESS event of {@code action} with nothing else yet: no environment, target, request or details. */
        public AuditDraft action(String action) {
            return new AuditDraft(actor, action, null, null, Outcome.SUCCESS, null, null, Map.of());
        }
    }

    /** The same event in {@code environment}. */
    public AuditDraft environment(String environment) {
        return new AuditDraft(actor, action, environment, target, outcome, requestId, sourceIp, details, grantUse,
                tokenUse);
    }

    /** The same event about {@code target} (a secret's name, a grant's or token's id, a key id). */
    public AuditDraft target(String target) {
        return new AuditDraft(actor, action, environment, target, outcome, requestId, sourceIp, details, grantUse,
                tokenUse);
    }

    /** The same event with these details in place of its own: names, ids, counts, codes, fingerprints. */
    public AuditDraft details(Map<String, Object> details) {
        return new AuditDraft(actor, action, environment, target, outcome, requestId, sourceIp, details, grantUse,
                tokenUse);
    }

    /** The same event with another outcome (its details unchanged; see also {@link #withOutcome}). */
    public AuditDraft outcome(Outcome outcome) {
        return new AuditDraft(actor, action, environment, target, outcome, requestId, sourceIp, details, grantUse,
                tokenUse);
    }

    /** The same event of the request {@code requestId} from {@code sourceIp}. */
    public AuditDraft request(String requestId, String sourceIp) {
        return new AuditDraft(actor, action, environment, target, outcome, requestId, sourceIp, details, grantUse,
                tokenUse);
    }

    private static final Pattern ACTION = Pattern.compile("[a-z]+(\\.[a-z-]+)+");

    public AuditDraft {
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(outcome, "outcome");
        if (action == null || !ACTION.matcher(action).matches()) {
            throw new IllegalArgumentException("audit action must be a dotted lower-case name");
        }
        // Events never carry empty strings, so CSV can use an empty field for null unambiguously.
        environment = blankToNull(environment);
        target = blankToNull(target);
        requestId = blankToNull(requestId);
        sourceIp = blankToNull(sourceIp);
        TreeMap<String, Object> all = new TreeMap<>(details == null ? Map.of() : details);
        if (tokenUse != null) {
            // Which token acted (its id, never the token): set here, so no event of an authenticated request lacks it.
            all.put("tokenId", tokenUse);
        }
        details = java.util.Collections.unmodifiableMap(all);
    }

    /** The same draft with another outcome and details (a failure of the action that was attempted). */
    public AuditDraft withOutcome(Outcome newOutcome, Map<String, Object> newDetails) {
        Map<String, Object> merged = new TreeMap<>(newDetails == null ? Map.of() : newDetails);
        if (grantUse != null) {
            merged.putIfAbsent("grant", grantUse);
        }
        return new AuditDraft(actor, action, environment, target, newOutcome, requestId, sourceIp, merged, grantUse,
                tokenUse);
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
