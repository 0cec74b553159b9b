package org.lifetimecircle.secrets.environment;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;

/** The environments defined by the policies. */
@Path("/api/v1/environments")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "environments")
@SecurityRequirement(name = "bearer")
public class EnvironmentResource {

    private final EnvironmentRegistry registry;
    private final EnvironmentStatus status;

    EnvironmentResource(EnvironmentRegistry registry, EnvironmentStatus status) {
        this.registry = registry;
        this.status = status;
    }

    @GET
    @Audited("environment.list")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "List environments, one per policy")
    public List<EnvironmentViews.Summary> list() {
        return registry.all().stream().map(EnvironmentViews.Summary::of).toList();
    }

    @GET
    @Path("/{env}")
    @Audited("environment.read")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "Show an environment: variable names, secrets and their status, env file")
    public EnvironmentViews.Detail get(@PathParam("env") String env) {
        return status.detail(registry.require(env));
    }
}
