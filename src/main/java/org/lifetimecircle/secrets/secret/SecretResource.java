package org.lifetimecircle.secrets.secret;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.web.QueryParams;

/** A secret's versions: states and fingerprints, never a value. */
@Path("/api/v1/environments/{env}/secrets/{name}/versions")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "secrets")
@SecurityRequirement(name = "bearer")
public class SecretResource {

    /** One version as the API shows it. */
    public record VersionView(long version, VersionState state, Instant createdAt, String fingerprint,
                              String rotationId) {
        static VersionView of(SecretVersionEntity v) {
            return new VersionView(v.version, v.state, v.createdAt, v.fingerprint, v.rotationId);
        }
    }

    private final EnvironmentRegistry environments;
    private final SecretVersionRepository versions;

    SecretResource(EnvironmentRegistry environments, SecretVersionRepository versions) {
        this.environments = environments;
        this.versions = versions;
    }

    @GET
    @Audited("secret.versions")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "Versions newest first with state and hmac-sha256 fingerprint; never a value")
    public List<VersionView> list(@PathParam("env") String env, @PathParam("name") String name,
                                  @QueryParam("limit") String limit) {
        SecretNames.require(environments.require(env), name);
        return versions.of(env, name, QueryParams.limit(limit)).stream().map(VersionView::of).toList();
    }
}
