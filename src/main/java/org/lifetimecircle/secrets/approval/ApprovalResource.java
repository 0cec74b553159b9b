package org.lifetimecircle.secrets.approval;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.approval.ApprovalViews.ApprovalView;
import org.lifetimecircle.secrets.approval.ApprovalViews.DecisionRequest;
import org.lifetimecircle.secrets.audit.AuditContext;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.CallerContext;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.QueryParams;

/**
 * Requests waiting for a second person, and their decisions. Deciding needs a role that could make such
 * requests (admin or security-engineer: grant:manage and secret:rotate have the same ceiling); the finer
 * rules (not one's own request, a rotation's approver holds a secret:rotate grant) are the service's.
 */
@Path("/api/v1/approvals")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "approvals")
@SecurityRequirement(name = "bearer")
public class ApprovalResource {

    private final ApprovalService approvals;
    private final CallerContext caller;
    private final AuditContext audit;
    private final Clock clock;

    ApprovalResource(ApprovalService approvals, CallerContext caller, AuditContext audit, Clock clock) {
        this.approvals = approvals;
        this.caller = caller;
        this.audit = audit;
        this.clock = clock;
    }

    @GET
    @Audited("approval.list")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "Requests waiting for (or decided by) a second person, newest first; filters status, "
            + "environment", description = "status: PENDING, APPROVED, DENIED or EXPIRED. A PENDING request past its "
            + "expiresAt shows (and filters) as EXPIRED even before the scheduler records the lapse.")
    public List<ApprovalView> list(@QueryParam("status") String status, @QueryParam("environment") String environment,
                                   @QueryParam("limit") String limit) {
        Optional<ApprovalStatus> s = Optional.ofNullable(status).map(ApprovalResource::status);
        Instant now = clock.instant();
        return approvals.list(s, Optional.ofNullable(environment), QueryParams.limit(limit)).stream()
                .map(a -> ApprovalView.of(a, now)).toList();
    }

    @GET
    @Path("/{id}")
    @Audited("approval.read")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "One request and, once decided, who decided it and what it created")
    public ApprovalView get(@PathParam("id") String id) {
        return approvals.find(id).map(a -> ApprovalView.of(a, clock.instant()))
                .orElseThrow(() -> ApiException.notFound("no approval '" + id + "'"));
    }

    @POST
    @Path("/{id}/approve")
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("approval.approve")
    @Requires(Permission.GRANT_MANAGE)
    @Operation(summary = "Approve a PENDING request (reason required): the grant is made, or the rotation starts, now",
            description = "403: the caller made the request, is the grantee of the grant, or cannot make such a "
                    + "request (a ROTATION also needs the caller's active secret:rotate grant on the environment; "
                    + "an IMPORT a role that may read the env file). 409: no longer PENDING, lapsed, the environment's "
                    + "policy changed, the requester or grantee was disabled, or another rotation runs.")
    public ApprovalView approve(@PathParam("id") String id, DecisionRequest body) {
        ApprovalEntity a = approvals.approve(id, reasonOf(body), caller.require(), audit.requestId());
        return ApprovalView.of(a, clock.instant());
    }

    @POST
    @Path("/{id}/deny")
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("approval.deny")
    @Requires(Permission.GRANT_MANAGE)
    @Operation(summary = "Deny a PENDING request (reason required); the requester may withdraw its own this way")
    public ApprovalView deny(@PathParam("id") String id, DecisionRequest body) {
        ApprovalEntity a = approvals.deny(id, reasonOf(body), caller.require());
        return ApprovalView.of(a, clock.instant());
    }

    private static String reasonOf(DecisionRequest body) {
        if (body == null) {
            throw ApiException.invalid("a JSON body {reason} is required");
        }
        return body.reason();
    }

    private static ApprovalStatus status(String text) {
        return Arrays.stream(ApprovalStatus.values()).filter(s -> s.name().equals(text)).findFirst()
                .orElseThrow(() -> ApiException.invalid("query parameter 'status' must be one of PENDING, APPROVED, "
                        + "DENIED, EXPIRED"));
    }
}
