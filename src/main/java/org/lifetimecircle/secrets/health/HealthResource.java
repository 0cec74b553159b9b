package org.lifetimecircle.secrets.health;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.AuditIntegrity;

/** {@code GET /health}: the contract's unauthenticated health answer for probes and deploy scripts. */
@Path("/health")
@Tag(name = "ops")
public class HealthResource {

    private final ServiceHealth health;
    private final AuditIntegrity auditIntegrity;

    HealthResource(ServiceHealth health, AuditIntegrity auditIntegrity) {
        this.health = health;
        this.auditIntegrity = auditIntegrity;
    }

    /** The body: overall status plus each check, names only. */
    public record HealthView(String status, Map<String, String> checks) {
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "200 UP when database, master key and policies are usable; 503 DOWN otherwise")
    public Response health() {
        Map<String, String> checks = new LinkedHashMap<>();
        boolean up = true;
        for (ServiceHealth.Check c : health.checks()) {
            checks.put(c.name(), c.up() ? "UP" : "DOWN");
            up &= c.up();
        }
        // Reported, not fatal: a broken chain is evidence to examine, and the service must stay up to export it.
        checks.put("audit-chain", auditIntegrity.valid() ? "UP" : "BROKEN");
        return Response.status(up ? 200 : 503)
                .header("Cache-Control", "no-store")
                .entity(new HealthView(up ? "UP" : "DOWN", checks))
                .build();
    }
}
