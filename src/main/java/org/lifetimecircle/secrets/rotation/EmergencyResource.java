package org.lifetimecircle.secrets.rotation;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.AuditContext;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.CallerContext;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.rotation.RotationViews.EmergencyRequest;
import org.lifetimecircle.secrets.rotation.RotationViews.RotationView;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/** The emergency rotation procedure. */
@Path("/api/v1/environments/{env}/emergency-rotations")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "emergency")
@SecurityRequirement(name = "bearer")
public class EmergencyResource {

    private static final Pattern INCIDENT = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private final EmergencyService emergencies;
    private final RotationRepository repository;
    private final EnvironmentRegistry environments;
    private final CallerContext caller;
    private final AuditContext audit;

    EmergencyResource(EmergencyService emergencies, RotationRepository repository, EnvironmentRegistry environments,
                      CallerContext caller, AuditContext audit) {
        this.emergencies = emergencies;
        this.repository = repository;
        this.environments = environments;
        this.caller = caller;
        this.audit = audit;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("emergency.start")
    @Requires(Permission.SECRET_ROTATE)
    @Operation(summary = "Emergency rotation: pre-empt, revoke other principals' grants, revoke every version, "
            + "rotate every secret, write, restart, check, record the incident, alert",
            description = "The commit that answers 202 already revokes every grant on the environment except the "
                    + "caller's, REVOKES the old versions and promotes the new ones: from the next request on nobody "
                    + "but the caller can fetch the new env file, even while the write, restart and health check "
                    + "still run.")
    public Response start(@PathParam("env") String env, EmergencyRequest body) {
        EnvironmentPolicy policy = environments.require(env);
        if (body == null) {
            throw ApiException.invalid("a JSON body {reason, incident} is required");
        }
        Reason reason = Reason.of("reason", body.reason());
        if (body.incident() != null && !INCIDENT.matcher(body.incident()).matches()) {
            throw ApiException.invalid("field 'incident' must match [A-Za-z0-9._:-]{1,64}, e.g. INC-2026-0042");
        }
        RotationEntity r = emergencies.request(policy, reason, body.incident(), caller.require(), audit.requestId());
        return Response.accepted(RotationView.of(r, repository))
                .location(URI.create("/api/v1/rotations/" + r.id)).build();
    }
}
