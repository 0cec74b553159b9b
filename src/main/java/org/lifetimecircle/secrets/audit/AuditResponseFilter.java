package org.lifetimecircle.secrets.audit;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.MultivaluedMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;
import org.lifetimecircle.secrets.web.Problem;
import org.lifetimecircle.secrets.web.ProblemCode;

/**
 * Makes sure every {@code /api/v1} request leaves exactly one audit event, durable before the
 * response goes out: successes the service did not record itself (reads), 401/403 denials as
 * {@code auth.denied} (401s aggregated by {@link AuthDenials}, not waited for), and refusals that happened before the service ran (bad input). If the event
 * cannot be written, the response becomes a 503: nothing is served unaudited.
 */
public class AuditResponseFilter {

    private static final Logger LOG = Logger.getLogger(AuditResponseFilter.class);
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private final AuditWriter writer;
    private final AuditContext context;
    private final AuthDenials authDenials;

    AuditResponseFilter(AuditWriter writer, AuditContext context, AuthDenials authDenials) {
        this.writer = writer;
        this.context = context;
        this.authDenials = authDenials;
    }

    @ServerResponseFilter
    public void record(ContainerRequestContext request, ContainerResponseContext response, ResourceInfo resource) {
        // Decided by the matched method's @Audited (below), not by the path's spelling, like AuthFilter.
        if (context.recorded()) {
            return;
        }
        Audited audited = resource.getResourceMethod() == null ? null
                : resource.getResourceMethod().getAnnotation(Audited.class);
        if (audited == null) {
            return; // no endpoint matched: nothing was read or changed
        }
        int status = response.getStatus();
        if (status == 401) {
            // Counted, not written: aggregated per source and reason, durable within a second (AuthDenials).
            context.markRecorded();
            authDenials.count(context.sourceIp(), bearerPresented(request) ? AuthDenials.INVALID_TOKEN
                    : AuthDenials.MISSING_TOKEN, audited.value(), context.requestId());
            return;
        }
        Map<String, Object> details = new LinkedHashMap<>();
        String action = audited.value();
        Outcome outcome = Outcome.SUCCESS;
        if (status == 403) {
            // A refusal by the access rules is recorded as such, naming the endpoint it refused.
            details.put("endpoint", action);
            action = "auth.denied";
        }
        if (status >= 400) {
            outcome = Outcome.ofRefusal(status);
            details.put("status", status);
            details.put("code", ProblemCode.forStatus(status).code());
        }
        MultivaluedMap<String, String> params = request.getUriInfo().getPathParameters();
        String environment = safe(params.getFirst("env"));
        String target = safe(firstOf(params, "name", "id"));
        context.markRecorded();
        try {
            writer.record(context.draft(action, environment, target, outcome, details));
        } catch (AuditUnavailableException e) {
            LOG.errorf("request %s: audit event %s could not be written; answering 503", context.requestId(), action);
            response.setStatus(503);
            response.getHeaders().remove("ETag");
            response.setEntity(Problem.of(ProblemCode.UNAVAILABLE,
                    "the audit trail is unavailable; the request was not served", context.requestId()),
                    null, jakarta.ws.rs.core.MediaType.valueOf(Problem.MEDIA_TYPE));
        }
    }

    private static boolean bearerPresented(ContainerRequestContext request) {
        String value = request.getHeaderString(jakarta.ws.rs.core.HttpHeaders.AUTHORIZATION);
        return value != null && value.regionMatches(true, 0, "Bearer ", 0, 7) && !value.substring(7).isBlank();
    }

    private static String firstOf(MultivaluedMap<String, String> params, String... names) {
        for (String n : names) {
            String v = params.getFirst(n);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    /** Path parameters are caller input: only plain ones go into the trail verbatim. */
    private static String safe(String value) {
        if (value == null) {
            return null;
        }
        return SAFE.matcher(value).matches() ? value : "(invalid)";
    }
}
