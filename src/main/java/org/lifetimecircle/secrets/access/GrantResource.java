package org.lifetimecircle.secrets.access;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.access.GrantDtos.AccessReview;
import org.lifetimecircle.secrets.access.GrantDtos.CreateGrant;
import org.lifetimecircle.secrets.access.GrantDtos.GrantView;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.CallerContext;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.QueryParams;

/** Access grants and the access review. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "grants")
@SecurityRequirement(name = "bearer")
public class GrantResource {

    private final GrantService grants;
    private final AccessReviewService reviews;
    private final CallerContext caller;
    private final Clock clock;

    private final GrantApprovalGate approvals;

    GrantResource(GrantService grants, AccessReviewService reviews, CallerContext caller, Clock clock,
                  GrantApprovalGate approvals) {
        this.approvals = approvals;
        this.grants = grants;
        this.reviews = reviews;
        this.caller = caller;
        this.clock = clock;
    }

    @POST
    @Path("/grants")
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("grant.create")
    @Requires(Permission.GRANT_MANAGE)
    @Operation(summary = "Grant an environment-scoped permission on one environment until ttl or expiresAt")
    @APIResponse(responseCode = "201", description = "The grant, in force now")
    @APIResponse(responseCode = "202", description = "{approval}: the environment's policy asks for two-person "
            + "approval; nothing is granted until a second person approves (Location: the approval)")
    public Response create(CreateGrant body) {
        Optional<Response> pending = approvals.divert(body, caller.require());
        if (pending.isPresent()) {
            return pending.get();
        }
        GrantEntity g = grants.create(body, caller.require());
        return Response.created(URI.create("/api/v1/grants/" + g.id)).entity(GrantView.of(g, clock.instant())).build();
    }

    @GET
    @Path("/grants")
    @Audited("grant.list")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "Grants, newest first; filters principal, environment, active")
    public List<GrantView> list(@QueryParam("principal") String principal, @QueryParam("environment") String environment,
                                @QueryParam("active") String active, @QueryParam("limit") String limit) {
        Instant now = clock.instant();
        return grants.list(Optional.ofNullable(principal), Optional.ofNullable(environment),
                        QueryParams.bool("active", active), QueryParams.limit(limit)).stream()
                .map(g -> GrantView.of(g, now)).toList();
    }

    @GET
    @Path("/grants/{id}")
    @Audited("grant.read")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "One grant, with its last use and use count")
    public GrantView get(@PathParam("id") String id) {
        return grants.find(id).map(g -> GrantView.of(g, clock.instant()))
                .orElseThrow(() -> ApiException.notFound("no grant '" + id + "'"));
    }

    @DELETE
    @Path("/grants/{id}")
    @Audited("grant.revoke")
    @Requires(Permission.GRANT_MANAGE)
    @Operation(summary = "Revoke a grant (reason required); it is refused from the next request on")
    public Response revoke(@PathParam("id") String id, @QueryParam("reason") String reason) {
        grants.revoke(id, reason, caller.require());
        return Response.noContent().build();
    }

    @GET
    @Path("/access-review")
    @Audited("access.review")
    @Requires(Permission.AUDIT_READ)
    @Operation(summary = "Who could use which permission on an environment during [from, to), who granted it, "
            + "and how often it was used then (default window: the last 30 days)",
            description = "Uses are counted from the events in the database. After an audit archive, events before "
                    + "`archivedBefore` are in archive files: a window reaching back before it is answered with "
                    + "`partlyArchived: true` (its use counts leave out the archived events), with "
                    + "`archivedThroughSeq` the last archived seq.")
    public AccessReview review(@QueryParam("environment") String environment, @QueryParam("from") String from,
                               @QueryParam("to") String to, @QueryParam("permission") String permission) {
        // A valid name is enough: the history of an environment whose policy was removed stays reviewable.
        if (!EnvironmentRegistry.validName(environment)) {
            throw ApiException.invalid("query parameter 'environment' is required and must match [a-z0-9-]{1,32}");
        }
        Optional<Permission> perm = Optional.ofNullable(permission).map(p -> Permission.fromId(p)
                .filter(Permission::environmentScoped)
                .orElseThrow(() -> ApiException.invalid(
                        "query parameter 'permission' must be secret:rotate, env-file:read or env-file:write")));
        return reviews.review(environment, QueryParams.instant("from", from), QueryParams.instant("to", to), perm);
    }
}
