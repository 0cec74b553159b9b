package org.lifetimecircle.secrets.rotation;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.AuditContext;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.CallerContext;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.rotation.RotationViews.ImportRequest;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.lifetimecircle.secrets.rotation.RotationViews.RotateRequest;
import org.lifetimecircle.secrets.rotation.RotationViews.RotationView;
import org.lifetimecircle.secrets.secret.SecretNames;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/** Rotating, rolling back and importing one secret (environment-scoped: role and grant). */
@Path("/api/v1/environments/{env}/secrets/{name}")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "rotations")
@SecurityRequirement(name = "bearer")
public class SecretRotationResource {

    private static final String APPROVAL_NOTE = "The rotation record (poll Location); or {approval} when the "
            + "environment's policy asks for two-person approval of rotations (approvals.rotations): nothing starts "
            + "until a second person approves, Location is then the approval";

    private final RotationService rotations;
    private final RotationRepository repository;
    private final EnvironmentRegistry environments;
    private final CallerContext caller;
    private final AuditContext audit;

    private final RotationApprovalGate approvals;

    SecretRotationResource(RotationService rotations, RotationRepository repository, EnvironmentRegistry environments,
                           CallerContext caller, AuditContext audit, RotationApprovalGate approvals) {
        this.approvals = approvals;
        this.rotations = rotations;
        this.repository = repository;
        this.environments = environments;
        this.caller = caller;
        this.audit = audit;
    }

    @POST
    @Path("/rotations")
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("rotation.request")
    @Requires(Permission.SECRET_ROTATE)
    @APIResponse(responseCode = "202", description = APPROVAL_NOTE)
    @Operation(summary = "Rotate a secret (kind MANUAL): 202 with the rotation; poll Location until it finishes")
    public Response rotate(@PathParam("env") String env, @PathParam("name") String name, RotateRequest body) {
        return start(env, name, RotationKind.MANUAL, body == null ? null : body.reason(), Optional.empty());
    }

    @POST
    @Path("/rollback")
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("rotation.request")
    @Requires(Permission.SECRET_ROTATE)
    @APIResponse(responseCode = "202", description = APPROVAL_NOTE)
    @Operation(summary = "Make PREVIOUS the CURRENT version again (kind ROLLBACK); 409 without a PREVIOUS")
    public Response rollback(@PathParam("env") String env, @PathParam("name") String name, RotateRequest body) {
        return start(env, name, RotationKind.ROLLBACK, body == null ? null : body.reason(), Optional.empty());
    }

    @POST
    @Path("/import")
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("rotation.request")
    @Requires(Permission.SECRET_ROTATE)
    @APIResponse(responseCode = "202", description = APPROVAL_NOTE)
    @Operation(summary = "Adopt an existing value as the new CURRENT (kind IMPORT), checked against the policy",
            description = "Needs secret:rotate AND an active env-file:read grant on the environment (403 otherwise): "
                    + "whoever imports chooses the value and so knows it, so only someone who may read the env file "
                    + "may import. A security engineer, whose role cannot hold env-file:read, cannot import.")
    public Response importValue(@PathParam("env") String env, @PathParam("name") String name, ImportRequest body) {
        EnvironmentPolicy policy = environments.require(env);
        // Before the body is looked at: a caller who may not import learns nothing about the policy.
        rotations.requireReadGrantForImport(caller.require().principalId(), policy.environment());
        if (body == null || body.value() == null || body.value().isEmpty()) {
            throw ApiException.invalid("field 'value' is required");
        }
        SecretPolicy secret = SecretNames.require(policy, name);
        ImportedValues.check(secret, body.value());
        try (SecretValue value = SecretValue.of(body.value())) {
            return start(env, name, RotationKind.IMPORT, body.reason(), Optional.of(value));
        }
    }

    private Response start(String env, String name, RotationKind kind, String reasonText, Optional<SecretValue> value) {
        EnvironmentPolicy policy = environments.require(env);
        SecretPolicy secret = SecretNames.require(policy, name);
        Reason reason = Reason.of("reason", reasonText);
        Optional<Response> pending = approvals.divert(policy, secret, kind, reason, value, caller.require());
        if (pending.isPresent()) {
            return pending.get();
        }
        RotationEntity r = rotations.request(policy, secret, kind, reason, value, caller.require(), audit.requestId());
        return Response.accepted(RotationView.of(r, repository))
                .location(URI.create("/api/v1/rotations/" + r.id))
                .build();
    }
}
