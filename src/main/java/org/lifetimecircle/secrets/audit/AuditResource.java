package org.lifetimecircle.secrets.audit;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.access.Permission;
import org.lifetimecircle.secrets.access.Requires;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.QueryParams;

/** The audit trail for auditors: pages, streamed exports, verification and signed checkpoints. */
@Path("/api/v1/audit")
@Tag(name = "audit")
@SecurityRequirement(name = "bearer")
public class AuditResource {

    private static final Pattern ACTION = Pattern.compile("[a-z]+(\\.[a-z-]+)+");
    private static final Pattern ENVIRONMENT = Pattern.compile("[a-z0-9-]{1,32}");
    private static final String LAST_SEQ = "X-Audit-Last-Seq";
    private static final String LAST_HASH = "X-Audit-Last-Hash";

    private final AuditReader reader;
    private final AuditVerifier verifier;
    private final AuditIntegrity integrity;
    private final Checkpoints checkpoints;
    private final AuditService audit;
    private final AuditContext context;

    AuditResource(AuditReader reader, AuditVerifier verifier, AuditIntegrity integrity, Checkpoints checkpoints,
                  AuditService audit, AuditContext context) {
        this.reader = reader;
        this.verifier = verifier;
        this.integrity = integrity;
        this.checkpoints = checkpoints;
        this.audit = audit;
        this.context = context;
    }

    @GET
    @Path("/events")
    @Produces(MediaType.APPLICATION_JSON)
    @Requires(Permission.AUDIT_READ)
    @Audited("audit.read")
    @Operation(summary = "Events with seq greater than `after`, in seq order")
    public List<AuditEvent> events(@QueryParam("after") String after, @QueryParam("limit") String limit,
                                   @QueryParam("action") String action, @QueryParam("environment") String environment) {
        long afterSeq = after == null ? 0 : QueryParams.nonNegative("after", after);
        int max = QueryParams.limit(limit);
        if (action != null && !ACTION.matcher(action).matches()) {
            throw ApiException.invalid("query parameter 'action' must be a dotted name such as principal.create");
        }
        if (environment != null && !ENVIRONMENT.matcher(environment).matches()) {
            throw ApiException.invalid("query parameter 'environment' must match [a-z0-9-]{1,32}");
        }
        return reader.page(afterSeq, max, action, environment);
    }

    @GET
    @Path("/export")
    @Produces({"application/x-ndjson", "text/csv"})
    @Requires(Permission.AUDIT_READ)
    @Audited("audit.export")
    @Operation(summary = "Stream the trail as JSONL or CSV from one snapshot; [from, to) in RFC 3339")
    public Response export(@QueryParam("format") String format, @QueryParam("from") String from,
                           @QueryParam("to") String to) {
        String fmt = format == null ? "jsonl" : format;
        if (!fmt.equals("jsonl") && !fmt.equals("csv")) {
            throw ApiException.invalid("query parameter 'format' must be jsonl or csv");
        }
        java.util.Optional<java.time.Instant> fromAt = QueryParams.instant("from", from);
        java.util.Optional<java.time.Instant> toAt = QueryParams.instant("to", to);
        if (fromAt.isPresent() && toAt.isPresent() && !fromAt.get().isBefore(toAt.get())) {
            // An empty export of an inverted range would look like "nothing happened": refuse it.
            throw ApiException.invalid("'from' must be before 'to'");
        }
        String fromTime = fromAt.map(ChainHash::time).orElse(null);
        String toTime = toAt.map(ChainHash::time).orElse(null);
        AuditReader.Export export = reader.openExport(fromTime, toTime);
        try {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("format", fmt);
            details.put("from", fromTime);
            details.put("to", toTime);
            details.put("lastSeq", export.last().seq());
            // Durable before a byte of the export leaves; the export's snapshot does not include it.
            audit.read("audit.export", null, null, details);
        } catch (RuntimeException e) {
            export.close();
            throw e;
        }
        boolean csv = fmt.equals("csv");
        StreamingOutput body = out -> export.write(out, csv);
        return Response.ok(body)
                .type(csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8")
                .header("Content-Disposition", "attachment; filename=\"ltc-secrets-audit." + fmt + "\"")
                .header("Cache-Control", "no-store")
                .header(LAST_SEQ, export.last().seq())
                .header(LAST_HASH, export.last().hash())
                .build();
    }

    @GET
    @Path("/verify")
    @Produces(MediaType.APPLICATION_JSON)
    @Requires(Permission.AUDIT_READ)
    @Audited("audit.verify")
    @Operation(summary = "Recompute the whole chain and check every signed checkpoint")
    public VerifyResult verify() {
        VerifyResult result = verifier.verifyAll();
        integrity.remember(result);
        return result;
    }

    @GET
    @Path("/checkpoint")
    @Produces(MediaType.APPLICATION_JSON)
    @Requires(Permission.AUDIT_READ)
    @Audited("audit.checkpoint")
    @Operation(summary = "A signed checkpoint of the current head (signed afresh if the head moved)")
    public Checkpoint checkpoint() {
        context.markRecorded();
        return checkpoints.checkpoint(context.draft("audit.checkpoint", null, null, Outcome.SUCCESS, Map.of()));
    }
}
