package org.lifetimecircle.secrets.audit;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
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
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.auth.Role;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.QueryParams;
import org.lifetimecircle.secrets.web.Reason;

/** The audit trail for auditors: pages, streamed exports, verification, signed checkpoints and archiving. */
@Path("/api/v1/audit")
@Tag(name = "audit")
@SecurityRequirement(name = "bearer")
public class AuditResource {

    private static final Pattern ACTION = Pattern.compile("[a-z]+(\\.[a-z-]+)+");
    private static final Pattern ENVIRONMENT = Pattern.compile("[a-z0-9-]{1,32}");
    private static final String LAST_SEQ = "X-Audit-Last-Seq";
    private static final String LAST_HASH = "X-Audit-Last-Hash";
    private static final String START_SEQ = "X-Audit-Chain-Start-Seq";
    private static final String START_PREV_HASH = "X-Audit-Chain-Start-Prev-Hash";
    private static final String ANCHOR_FILE = "X-Audit-Anchor-File";

    private final AuditReader reader;
    private final AuditVerifier verifier;
    private final AuditIntegrity integrity;
    private final Checkpoints checkpoints;
    private final AuditService audit;
    private final AuditContext context;
    private final AuditArchiver archiver;
    private final java.time.Clock clock;
    private final AuditExports exports;
    private final io.vertx.core.http.HttpServerRequest http;

    AuditResource(AuditReader reader, AuditVerifier verifier, AuditIntegrity integrity, Checkpoints checkpoints,
                  AuditService audit, AuditContext context, AuditArchiver archiver, java.time.Clock clock,
                  AuditExports exports, io.vertx.core.http.HttpServerRequest http) {
        this.exports = exports;
        this.http = http;
        this.archiver = archiver;
        this.clock = clock;
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
    @Operation(summary = "Stream the trail as JSONL or CSV from one snapshot; [from, to) in RFC 3339",
            description = "At most two exports and verifications run at a time: another one is refused with 429 "
                    + "too-many-requests and Retry-After. A client that stops reading is cut off after "
                    + "ltc-secrets.audit.export-write-timeout (default PT60S).")
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
        // The request's connection, taken here on the request's thread: the watchdog closes it if the client stops reading.
        AuditExports.Slot slot = exports.acquire("export", http.connection());
        AuditReader.Export export = reader.openExport(slot.connection(), slot::close, fromTime, toTime);
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
        StreamingOutput body = out -> {
            if (!slot.startStreaming()) {
                throw new java.io.IOException("audit export released before its body was sent");
            }
            export.write(slot.watch(out), csv);
        };
        slot.handOver();
        return Response.ok(body)
                .type(csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8")
                .header("Content-Disposition", "attachment; filename=\"ltc-secrets-audit." + fmt + "\"")
                .header("Cache-Control", "no-store")
                .header(LAST_SEQ, export.last().seq())
                .header(LAST_HASH, export.last().hash())
                // Where the live chain starts (after an archive: the anchor), so a full export verifies
                // offline with --anchor <Start-Prev-Hash> and its first line has seq Start-Seq.
                .header(START_SEQ, export.chainStart().seq() + 1)
                .header(START_PREV_HASH, export.chainStart().hash())
                .header(ANCHOR_FILE, export.anchorFile())
                .build();
    }

    @GET
    @Path("/verify")
    @Produces(MediaType.APPLICATION_JSON)
    @Requires(Permission.AUDIT_READ)
    @Audited("audit.verify")
    @Operation(summary = "Recompute the whole chain and check every signed checkpoint",
            description = "Shares the two slots of audit exports: a third one at a time is refused with 429 "
                    + "too-many-requests and Retry-After.")
    public VerifyResult verify() {
        VerifyResult result;
        try (AuditExports.Slot slot = exports.acquire("verify", null)) {
            result = verifier.verifyAll(slot.connection());
        }
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

    /** The body of {@code POST /audit/archive}. */
    public record ArchiveRequest(String before, String reason) {
    }

    @POST
    @Path("/archive")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Requires(value = Permission.AUDIT_READ, roles = Role.ADMIN)
    @Audited("audit.archive")
    @Operation(summary = "Archive the events older than `before` (needs audit:read and the admin role)",
            description = "Moves a whole prefix of the chain (from seq 1 or the previous archive up to the last event "
                    + "older than `before`) to a signed archive under <data-dir>/audit-archive/ and deletes it from the "
                    + "database, leaving a signed anchor the live chain is verified from. Nothing that old: 200 with "
                    + "nulls and events 0. 400 missing or bad `before` (RFC 3339, not in the future) or reason; 409 the "
                    + "chain does not verify in that range (nothing archived).")
    public AuditArchiver.Result archive(ArchiveRequest body) {
        if (body == null) {
            throw ApiException.invalid("a JSON body {before, reason} is required");
        }
        if (body.before() == null || body.before().isBlank()) {
            throw ApiException.invalid("'before' is required (an RFC 3339 time such as 2026-03-06T09:00:00Z)");
        }
        java.time.Instant before;
        try {
            before = java.time.Instant.parse(body.before());
        } catch (java.time.format.DateTimeParseException e) {
            throw ApiException.invalid("'before' must be an RFC 3339 time such as 2026-03-06T09:00:00Z");
        }
        if (before.isAfter(clock.instant())) {
            // A time in the future is a mistake (a typo in the year), not a way to say "everything".
            throw ApiException.invalid("'before' must not be in the future");
        }
        Reason reason = Reason.of("reason", body.reason());
        context.markRecorded();
        return archiver.archive(before, reason.value(),
                context.draft("audit.archive", null, null, Outcome.SUCCESS, Map.of()));
    }
}
