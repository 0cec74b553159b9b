package org.lifetimecircle.secrets.restorehold;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.AuditContext;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.ProblemCode;
import org.lifetimecircle.secrets.web.Reason;

/** An admin's confirmation, after a restore, that env files may be written again (see {@link EnvFileHold}). */
@Path("/api/v1/admin/env-file-hold")
@Tag(name = "admin")
@SecurityRequirement(name = "bearer")
public class EnvFileHoldResource {

    /** The body of {@code POST /admin/env-file-hold/release}. */
    public record ReleaseRequest(String reason) {
    }

    /** What the release answers: whether a hold was in force, and which env files were then brought up to date. */
    public record Released(boolean wasHeld, Map<String, String> hold, java.util.List<String> environmentsSynced) {
    }

    private final EnvFileHold hold;
    private final AuditService audit;
    private final AuditContext context;
    private final EnvironmentRegistry environments;
    private final ReleaseSync sync;

    EnvFileHoldResource(EnvFileHold hold, AuditService audit, AuditContext context, EnvironmentRegistry environments,
                        ReleaseSync sync) {
        this.hold = hold;
        this.audit = audit;
        this.context = context;
        this.environments = environments;
        this.sync = sync;
    }

    @POST
    @Path("/release")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    // principal:manage is the admin role's alone: releasing decides what value the apps get next.
    @Requires(Permission.PRINCIPAL_MANAGE)
    @Audited("envfile.hold.release")
    @Operation(summary = "Release the env-file hold restore.sh left (admin only)",
            description = "After a restore the service writes and serves no env file (start-up sync, drift repair, "
                    + "rotations, env-file/write and the env-file fetch: 409; an emergency, whose values are all new, "
                    + "still runs) until an admin confirms that every emergency, revocation and disable since "
                    + "the backup was repeated. This removes the hold (audited as envfile.hold.release with the reason) "
                    + "and brings every env file up to date from the CURRENT versions. Without a hold it changes "
                    + "nothing and answers wasHeld false. 400 missing reason.")
    public Released release(ReleaseRequest body) {
        if (body == null) {
            throw ApiException.invalid("a JSON body {reason} is required");
        }
        Reason reason = Reason.of("reason", body.reason());
        // Recorded first, removed after the commit: a failure in between leaves the hold in force (the safe side),
        // never a hold gone without its audited release.
        Optional<EnvFileHold.Hold> current = hold.current();
        Optional<EnvFileHold.Hold> released = audit.mutate("envfile.hold.release", null, null, () -> current, r -> {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("reason", reason.value());
            d.put("wasHeld", r.isPresent());
            r.ifPresent(h -> d.putAll(h.facts()));
            return d;
        });
        if (released.isPresent()) {
            try {
                hold.remove();
            } catch (IOException e) {
                throw new ApiException(ProblemCode.INTERNAL, "the release is recorded, but the hold marker could not be "
                        + "removed (" + org.lifetimecircle.secrets.files.IoReasons.reason(e) + "): the hold stays in force; "
                        + "fix that and release again");
            }
        }
        java.util.List<String> synced = new java.util.ArrayList<>();
        if (released.isPresent()) {
            for (EnvironmentPolicy p : environments.all()) {
                sync.sync(p, "env-file hold released after a restore", context.actor());
                synced.add(p.environment());
            }
        }
        return new Released(released.isPresent(), released.map(EnvFileHold.Hold::facts).orElse(Map.of()), synced);
    }
}
