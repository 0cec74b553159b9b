package org.lifetimecircle.secrets.rotation;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.auth.CallerContext;
import org.lifetimecircle.secrets.rotation.RotationViews.IncidentView;
import org.lifetimecircle.secrets.rotation.RotationViews.ReviewRequest;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.QueryParams;

/** The incidents recorded by emergency procedures. */
@Path("/api/v1/incidents")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "emergency")
@SecurityRequirement(name = "bearer")
public class IncidentResource {

    private final RotationRepository repository;
    private final IncidentReviews reviews;
    private final CallerContext caller;

    IncidentResource(RotationRepository repository, IncidentReviews reviews, CallerContext caller) {
        this.repository = repository;
        this.reviews = reviews;
        this.caller = caller;
    }

    @POST
    @Path("/{incident}/review")
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("incident.review")
    @Requires(Permission.AUDIT_READ)
    @Operation(summary = "Review an emergency that ran in an environment with two-person approval (reason required)",
            description = "An emergency never waits for approval; where the environment's policy has an approvals "
                    + "section it is recorded with reviewRequired true until a second person reviews it. 403 for the "
                    + "person who ran it, 409 when the incident needs no review; reviewing twice changes nothing.")
    public IncidentView review(@PathParam("incident") String incident, ReviewRequest body) {
        if (body == null) {
            throw ApiException.invalid("a JSON body {reason} is required");
        }
        return IncidentView.of(reviews.review(incident, body.reason(), caller.require()));
    }

    @GET
    @Audited("incident.list")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "Emergency procedures, newest first: incident, caller, time, reason, outcome")
    public List<IncidentView> incidents(@QueryParam("environment") String environment,
                                        @QueryParam("limit") String limit) {
        if (environment != null && !EnvironmentRegistry.validName(environment)) {
            throw ApiException.invalid("query parameter 'environment' must match [a-z0-9-]{1,32}");
        }
        return repository.search(java.util.Optional.ofNullable(environment),
                java.util.Optional.of(RotationKind.EMERGENCY), java.util.Optional.empty(), QueryParams.limit(limit))
                .stream().map(IncidentView::of).toList();
    }
}
