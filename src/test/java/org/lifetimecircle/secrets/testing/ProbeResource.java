package org.lifetimecircle.secrets.testing;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;

/**
 * Test-only endpoints, one per environment-scoped permission, so grant enforcement is tested on
 * the real filter before the rotation and env-file endpoints exist. Present only in test builds.
 */
@Path("/api/v1/test-probe/{env}")
@Produces(MediaType.APPLICATION_JSON)
public class ProbeResource {

    @GET
    @Path("/rotate")
    @Requires(Permission.SECRET_ROTATE)
    @Audited("test.probe-rotate")
    public Map<String, String> rotate(@PathParam("env") String env) {
        return Map.of("environment", env, "permission", "secret:rotate");
    }

    @GET
    @Path("/read")
    @Requires(Permission.ENV_FILE_READ)
    @Audited("test.probe-read")
    public Map<String, String> read(@PathParam("env") String env) {
        return Map.of("environment", env, "permission", "env-file:read");
    }

    @GET
    @Path("/write")
    @Requires(Permission.ENV_FILE_WRITE)
    @Audited("test.probe-write")
    public Map<String, String> write(@PathParam("env") String env) {
        return Map.of("environment", env, "permission", "env-file:write");
    }
}
