package org.lifetimecircle.secrets.rotation;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.rotation.RotationViews.RotationView;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.QueryParams;

/** The rotation history. */
@Path("/api/v1/rotations")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "rotations")
@SecurityRequirement(name = "bearer")
public class RotationResource {

    private static final Pattern ROTATION_ID = Pattern.compile("[0-9a-f]{16}");

    private final RotationRepository repository;

    RotationResource(RotationRepository repository) {
        this.repository = repository;
    }

    @GET
    @Audited("rotation.list")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "Rotation history, newest first; filters environment, kind, status")
    public List<RotationView> list(@QueryParam("environment") String environment, @QueryParam("kind") String kind,
                                   @QueryParam("status") String status, @QueryParam("limit") String limit) {
        if (environment != null && !EnvironmentRegistry.validName(environment)) {
            throw ApiException.invalid("query parameter 'environment' must match [a-z0-9-]{1,32}");
        }
        return repository.search(Optional.ofNullable(environment), enumOf(RotationKind.class, "kind", kind),
                        enumOf(RotationStatus.class, "status", status), QueryParams.limit(limit)).stream()
                .map(r -> RotationView.of(r, repository)).toList();
    }

    @GET
    @Path("/{id}")
    @Audited("rotation.read")
    @Requires(Permission.METADATA_READ)
    @Operation(summary = "One rotation with its steps")
    public RotationView get(@PathParam("id") String id) {
        if (!ROTATION_ID.matcher(id).matches()) {
            throw ApiException.invalid("rotation id must be 16 hex characters");
        }
        RotationEntity r = repository.findByIdOptional(id)
                .orElseThrow(() -> ApiException.notFound("no rotation '" + id + "'"));
        return RotationView.of(r, repository);
    }

    private static <E extends Enum<E>> Optional<E> enumOf(Class<E> type, String param, String value) {
        if (value == null) {
            return Optional.empty();
        }
        return Arrays.stream(type.getEnumConstants()).filter(e -> e.name().equals(value)).findFirst()
                .map(Optional::of)
                .orElseThrow(() -> ApiException.invalid("query parameter '" + param + "' must be one of "
                        + Arrays.toString(type.getEnumConstants())));
    }
}
