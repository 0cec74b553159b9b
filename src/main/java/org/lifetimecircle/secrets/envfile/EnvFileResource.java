package org.lifetimecircle.secrets.envfile;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;

/** Fetching an environment's env file, and having the service write it on the host. */
@Path("/api/v1/environments/{env}/env-file")
@Tag(name = "env-file")
@SecurityRequirement(name = "bearer")
public class EnvFileResource {

    private final EnvironmentRegistry environments;
    private final EnvFileWrites envFiles;
    private final EnvFileSync sync;
    private final AuditService audit;

    EnvFileResource(EnvironmentRegistry environments, EnvFileWrites envFiles, EnvFileSync sync, AuditService audit) {
        this.environments = environments;
        this.envFiles = envFiles;
        this.sync = sync;
        this.audit = audit;
    }

    @GET
    @Produces("text/plain")
    @Requires(Permission.ENV_FILE_READ)
    @Audited("envfile.read")
    @Operation(summary = "The env file, byte for byte what is (or would be) on disk; ETag = its SHA-256, "
            + "If-None-Match answers 304")
    public Response read(@PathParam("env") String env, @HeaderParam("If-None-Match") String ifNoneMatch) {
        EnvironmentPolicy policy = environments.require(env);
        envFiles.requireNotHeld(); // after a restore the CURRENT values may be ones an emergency revoked since
        RenderedEnvFiles.Served rendered = envFiles.serve(policy);
        String etag = "\"" + rendered.sha256() + "\"";
        boolean notModified = ifNoneMatch != null && matches(ifNoneMatch, etag);
        Map<String, Object> details = new LinkedHashMap<>();
        // The ETag (to this reader only) is the plain hash; the trail, which auditors read, gets the keyed one.
        details.put("fingerprint", rendered.fingerprint());
        details.put("secretVersions", rendered.secretVersions());
        details.put("notModified", notModified);
        // Durable before a byte of the file leaves.
        audit.read("envfile.read", env, null, details);
        byte[] content = rendered.content();
        // Streamed from our array, which is zeroed once written: the copies left are the HTTP layer's own
        // buffers (Vert.x/Netty), released to their pool without being zeroed.
        Response.ResponseBuilder response = notModified ? Response.notModified()
                : Response.ok((StreamingOutput) out -> {
                    try {
                        out.write(content);
                    } finally {
                        Arrays.fill(content, (byte) 0);
                    }
                }, "text/plain; charset=utf-8");
        if (notModified) {
            Arrays.fill(rendered.content(), (byte) 0);
        }
        return response
                .header("ETag", etag)
                .header("X-Secret-Version", rendered.secretVersions())
                .header("Cache-Control", "no-store")
                .build();
    }

    @POST
    @Path("/write")
    @Produces(MediaType.APPLICATION_JSON)
    @Requires(Permission.ENV_FILE_WRITE)
    @Audited("envfile.write")
    @Operation(summary = "Write the env file on the host from the CURRENT versions (atomic, policy mode)",
            description = "The answer names the file by its keyed fingerprint (hmac-sha256:…); sha256 is always null: "
                    + "a plain hash would let a caller who may write but not read the file (a security engineer) "
                    + "confirm a guessed value offline.")
    public EnvFileSync.Written write(@PathParam("env") String env) {
        return sync.writeOnRequest(environments.require(env));
    }

    private static boolean matches(String ifNoneMatch, String etag) {
        for (String candidate : ifNoneMatch.split(",")) {
            String c = candidate.trim();
            if (c.equals("*") || c.equals(etag) || c.equals("W/" + etag)) {
                return true;
            }
        }
        return false;
    }
}
