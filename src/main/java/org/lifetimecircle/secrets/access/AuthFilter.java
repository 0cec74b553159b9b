package org.lifetimecircle.secrets.access;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.web.ProblemCode;
import org.lifetimecircle.secrets.web.ProblemMappers;

/**
 * The single place where {@code /api/v1} requests are authenticated and authorised. It runs after
 * routing, on the worker thread of the (blocking) resource method, and reads the method's
 * {@link Requires}; a method without one is refused.
 */
public class AuthFilter {

    private static final Logger LOG = Logger.getLogger(AuthFilter.class);
    private static final String API_PREFIX = "/api/v1/";
    private static final String BEARER = "Bearer ";

    private final TokenService tokens;
    private final CallerContext callerContext;

    AuthFilter(TokenService tokens, CallerContext callerContext) {
        this.tokens = tokens;
        this.callerContext = callerContext;
    }

    @ServerRequestFilter
    public Response authorise(ContainerRequestContext request, ResourceInfo resource, HttpHeaders headers) {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith(API_PREFIX)) {
            return null;
        }
        Optional<Caller> caller = bearer(headers).flatMap(tokens::authenticate);
        if (caller.isEmpty()) {
            return ProblemMappers.respond(ProblemCode.UNAUTHORIZED,
                    "a valid bearer token is required (Authorization: Bearer ltcs_…)", headers);
        }
        callerContext.set(caller.get());
        Requires requires = requiredPermission(resource);
        if (requires == null || resource.getResourceMethod().getAnnotation(Audited.class) == null) {
            LOG.errorf("endpoint %s.%s lacks @Requires or @Audited; refusing", resource.getResourceClass().getSimpleName(),
                    resource.getResourceMethod().getName());
            return ProblemMappers.respond(ProblemCode.FORBIDDEN, "this endpoint is not available", headers);
        }
        Permission permission = requires.value();
        if (!permission.allows(caller.get().role())) {
            return ProblemMappers.respond(ProblemCode.FORBIDDEN,
                    "role '" + caller.get().role().id() + "' does not have permission '" + permission.id() + "'", headers);
        }
        if (permission.environmentScoped()) {
            // Grants arrive with the access-grant feature; until then no grant can exist, so refuse.
            return ProblemMappers.respond(ProblemCode.FORBIDDEN,
                    "permission '" + permission.id() + "' needs an active grant for this environment", headers);
        }
        return null;
    }

    private static Optional<String> bearer(HttpHeaders headers) {
        String value = headers.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (value == null || value.length() <= BEARER.length()
                || !value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return Optional.empty();
        }
        return Optional.of(value.substring(BEARER.length()).trim());
    }

    private static Requires requiredPermission(ResourceInfo resource) {
        return resource.getResourceMethod() == null ? null : resource.getResourceMethod().getAnnotation(Requires.class);
    }
}
