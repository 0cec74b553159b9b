package org.lifetimecircle.secrets.health;

import org.lifetimecircle.secrets.rotation.IncidentReviews;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.AuditIntegrity;
import org.lifetimecircle.secrets.auth.Unauthenticated;

/** {@code GET /health}: the contract's unauthenticated health answer for probes and deploy scripts. */
@Path("/health")
@Tag(name = "ops")
@Unauthenticated
public class HealthResource {

    private final ServiceHealth health;
    private final AuditIntegrity auditIntegrity;

    private final IncidentReviews reviews;

    HealthResource(ServiceHealth health, AuditIntegrity auditIntegrity, IncidentReviews reviews) {
        this.reviews = reviews;
        this.health = health;
        this.auditIntegrity = auditIntegrity;
    }

    /**
     * The body: overall status, this instance's role ({@code active}, or {@code standby} on a shared store), each check, and when DOWN why, in words (null when UP): what a probe or
     * an operator needs to act, never an exception class.
     */
    public record HealthView(String status, String role, Map<String, String> checks, String reason) {
    }

    private String incidentReviews() {
        try {
            int overdue = reviews.overdue().size();
            return overdue == 0 ? "UP" : "OVERDUE: " + overdue + " emergency rotation(s) not reviewed by a second "
                    + "person for more than a day (GET /api/v1/incidents)";
        } catch (RuntimeException e) {
            return "UNKNOWN";
        }
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "200 UP when the database answers and takes writes, and master key and policies are "
            + "usable; 503 DOWN otherwise, with the reason. role: active, or standby (shared PostgreSQL store: "
            + "UP when it could take over; its /api/v1 answers 503 standby)")
    public Response health() {
        Map<String, String> checks = new LinkedHashMap<>();
        List<String> reasons = new ArrayList<>();
        boolean up = true;
        for (ServiceHealth.Check c : health.checks()) {
            checks.put(c.name(), c.up() ? "UP" : "DOWN");
            up &= c.up();
            if (!c.up()) {
                reasons.add(c.reason());
            }
        }
        // Reported, not fatal: a broken chain is evidence to examine, and the service must stay up to export it.
        checks.put("audit-chain", auditIntegrity.valid() ? "UP" : "BROKEN");
        // Reported, not fatal either: an emergency a second person has not reviewed for a day (two-person approval).
        if (up) {
            checks.put("incident-reviews", incidentReviews());
        }
        return Response.status(up ? 200 : 503)
                .header("Cache-Control", "no-store")
                .entity(new HealthView(up ? "UP" : "DOWN", health.role().wire(), checks,
                        up ? null : String.join("; ", reasons)))
                .build();
    }
}
