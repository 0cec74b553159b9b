package org.lifetimecircle.secrets.rotation;

import jakarta.ws.rs.GET;
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
import org.lifetimecircle.secrets.rotation.RotationViews.IncidentView;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.QueryParams;

/** The incidents recorded by emergency procedures. */
@Path("/api/v1/incidents")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "emergency")
@SecurityRequirement(name = "bearer")
public class IncidentResource {

    private final RotationRepository repository;

    IncidentResource(RotationRepository repository) {
        this.repository = repository;
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
