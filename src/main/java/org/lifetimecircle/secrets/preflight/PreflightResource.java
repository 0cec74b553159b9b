package org.lifetimecircle.secrets.preflight;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;

/** The go-live preflight of an environment. Its own root path: under EnvironmentResource's it would not be found. */
@Path("/api/v1/environments/{env}/preflight")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "environments")
@SecurityRequirement(name = "bearer")
public class PreflightResource {

    private final EnvironmentRegistry registry;
    private final PreflightService preflight;

    PreflightResource(EnvironmentRegistry registry, PreflightService preflight) {
        this.registry = registry;
        this.preflight = preflight;
    }

    @GET
    @Audited("preflight.run")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "Run the go-live checks of an environment: each PASS, WARN or FAIL with what to do; "
            + "go is true only without a FAIL")
    public PreflightViews.Report run(@PathParam("env") String env) {
        return preflight.run(registry.require(env));
    }
}
