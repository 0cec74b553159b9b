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
 */
public record AuditDraft(String actor, String action, String environment, String target, Outcome outcome,
                         String requestId, String sourceIp, Map<String, Object> details, String grantUse,
                         String tokenUse) {

    /** An event that used no grant and no token (the service's own work). */
    public AuditDraft(String actor, String action, String environment, String target, Outcome outcome,
                      String requestId, String sourceIp, Map<String, Object> details) {
        this(actor, action, environment, target, outcome, requestId, sourceIp, details, null, null);
    }

    /** An event that used a grant but no token. */
    public AuditDraft(String actor, String action, String environment, String target, Outcome outcome,
                      String requestId, String sourceIp, Map<String, Object> details, String grantUse) {
        this(actor, action, environment, target, outcome, requestId, sourceIp, details, grantUse, null);
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
