package org.lifetimecircle.secrets.access;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.time.Clock;
import java.util.Optional;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.lifetimecircle.secrets.audit.AuditContext;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.auth.CallerContext;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.auth.Role;
import org.lifetimecircle.secrets.auth.Unauthenticated;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.web.ProblemCode;
import org.lifetimecircle.secrets.web.ProblemMappers;

/**
 * The single place where requests are authenticated and authorised. It runs after routing, on the
 * worker thread of the (blocking) resource method, and reads the method's {@link Requires}; a method
 * without one is refused. Which requests need a token is decided by the matched resource, never by
 * the spelling of the path (matrix parameters, doubled or encoded slashes): every resource but the
 * health answer does. The ops endpoints under {@code /q/} are Vert.x routes and never reach it. For an environment-scoped permission it also
 * requires an active grant for the {@code {env}} path parameter, looked up in the database on every
 * request (no cache: a revoked or expired grant fails the very next request).
 */
public class AuthFilter {

    private static final Logger LOG = Logger.getLogger(AuthFilter.class);
    private static final String BEARER = "Bearer ";

    static final String ENVIRONMENT_PARAMETER = "env";

    private final TokenService tokens;
    private final CallerContext callerContext;
    private final AccessLookups grants;
    private final AuditContext audit;
    private final Clock clock;
    private final FailedAuthTarpit tarpit;

    AuthFilter(TokenService tokens, CallerContext callerContext, AccessLookups grants, AuditContext audit,
               Clock clock, FailedAuthTarpit tarpit) {
        this.tarpit = tarpit;
        this.tokens = tokens;
        this.callerContext = callerContext;
        this.grants = grants;
        this.audit = audit;
        this.clock = clock;
    }

    @ServerRequestFilter
    public Response authorise(ContainerRequestContext request, ResourceInfo resource, HttpHeaders headers) {
        // Resources anyone may call: the contract's unauthenticated health answer, nothing else (OpenResourcesTest).
        if (resource.getResourceClass().isAnnotationPresent(Unauthenticated.class)) {
            return null;
        }
        Optional<String> presented = bearer(headers);
        Optional<Caller> caller = presented.flatMap(tokens::authenticate);
        if (caller.isEmpty()) {
            tarpit.failed(audit.sourceIp());
            return ProblemMappers.respond(ProblemCode.UNAUTHORIZED,
                    "a valid bearer token is required (Authorization: Bearer ltcs_…)", headers);
        }
        callerContext.set(caller.get());
        tarpit.succeeded(presented.get());
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
        if (requires.roles().length > 0 && !java.util.Arrays.asList(requires.roles()).contains(caller.get().role())) {
            return ProblemMappers.respond(ProblemCode.FORBIDDEN, "this endpoint needs the role '"
                    + java.util.Arrays.stream(requires.roles()).map(Role::id)
                    .collect(java.util.stream.Collectors.joining("' or '")) + "'", headers);
        }
        if (permission.environmentScoped()) {
            return requireGrant(caller.get(), permission, request, resource, headers);
        }
        return null;
    }

    private Response requireGrant(Caller caller, Permission permission, ContainerRequestContext request,
                                  ResourceInfo resource, HttpHeaders headers) {
        String environment = request.getUriInfo().getPathParameters().getFirst(ENVIRONMENT_PARAMETER);
        if (environment == null) {
            // An environment-scoped permission on a path without {env} would have nothing to check a grant against.
            LOG.errorf("endpoint %s.%s needs an {env} path parameter for %s; refusing",
                    resource.getResourceClass().getSimpleName(), resource.getResourceMethod().getName(), permission.id());
            return ProblemMappers.respond(ProblemCode.FORBIDDEN, "this endpoint is not available", headers);
        }
        if (!EnvironmentRegistry.validName(environment)) {
            return ProblemMappers.respond(ProblemCode.INVALID_REQUEST, "environment must match [a-z0-9-]{1,32}", headers);
        }
        Optional<String> grant = grants.activeGrantId(caller.principalId(), environment, permission, clock.instant());
        if (grant.isEmpty()) {
            return ProblemMappers.respond(ProblemCode.FORBIDDEN, "permission '" + permission.id()
                    + "' on environment '" + environment + "' needs an active grant", headers);
        }
        audit.usingGrant(grant.get());
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
