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
    private final LiveSteps live;

    RotationResource(RotationRepository repository, LiveSteps live) {
        this.repository = repository;
        this.live = live;
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
    @Operation(summary = "One rotation with its steps",
            description = "While it runs, steps already made (the env file written, the app restarted) are listed as "
                    + "they happen, before the commit that ends their stage journals them.")
    public RotationView get(@PathParam("id") String id) {
        if (!ROTATION_ID.matcher(id).matches()) {
            throw ApiException.invalid("rotation id must be 16 hex characters");
        }
        RotationEntity r = repository.findByIdOptional(id)
                .orElseThrow(() -> ApiException.notFound("no rotation '" + id + "'"));
        return RotationView.of(r, repository, live.of(id));
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
