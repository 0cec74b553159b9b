package org.lifetimecircle.secrets.testing;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;

/**
 * Test-only endpoints outside {@code /api/v1}: authentication must follow the matched resource, not
 * the spelling of the path. Present only in test builds.
 */
@Path("/test-outside-api")
@Produces(MediaType.APPLICATION_JSON)
public class OutsideApiProbeResource {

    @GET
    @Path("/probe")
    @Requires(Permission.METADATA_READ)
    @Audited("test.probe-outside")
    public Map<String, String> probe() {
        return Map.of("served", "yes");
    }

    /** Like an endpoint someone forgot to annotate. */
    @GET
    @Path("/unannotated")
    public Map<String, String> unannotated() {
        return Map.of("served", "yes");
    }
}
