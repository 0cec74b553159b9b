package org.lifetimecircle.secrets.audit;

import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.RequestScoped;
import java.util.Map;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.auth.CallerContext;
import org.lifetimecircle.secrets.web.HttpFilters;

/**
 * Who and where for the audit events of the current request, and whether the request has already
 * recorded its event (so {@link AuditResponseFilter} adds one only where the service did not).
 */
@RequestScoped
public class AuditContext {

    private final CallerContext caller;
    private final HttpServerRequest request;
    private boolean recorded;
    private String grantUse;

    AuditContext(CallerContext caller, HttpServerRequest request) {
        this.caller = caller;
        this.request = request;
    }

    /**
     * A draft of this request's event, with actor, request id, source address, the grant it used and
     * the token that authenticated it filled in.
     */
    public AuditDraft draft(String action, String environment, String target, Outcome outcome,
                            Map<String, Object> details) {
        Map<String, Object> all = details;
        if (grantUse != null) {
            all = new java.util.TreeMap<>(details == null ? Map.of() : details);
            all.putIfAbsent("grant", grantUse);
        }
        return new AuditDraft(actor(), action, environment, target, outcome, requestId(), sourceIp(), all, grantUse,
                caller.caller().map(Caller::tokenId).orElse(null));
    }

    /**
     * Names the access grant this request was allowed by (set by the authorisation filter). Its
     * events carry the grant's id, and a successful one counts as a use of the grant.
     */
    public void usingGrant(String grantId) {
        this.grantUse = grantId;
    }

    public String actor() {
        return caller.caller().map(Caller::name).orElse(Actors.ANONYMOUS);
    }

    public String requestId() {
        return request.getHeader(HttpFilters.REQUEST_ID);
    }

    /** The peer address. X-Forwarded-For is ignored: ltc-secrets is reached on localhost, not via a proxy. */
    public String sourceIp() {
        return request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    }

    void markRecorded() {
        recorded = true;
    }

    boolean recorded() {
        return recorded;
    }
}
