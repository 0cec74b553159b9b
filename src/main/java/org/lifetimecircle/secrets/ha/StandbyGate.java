package org.lifetimecircle.secrets.ha;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.lifetimecircle.secrets.web.HttpFilters;
import org.lifetimecircle.secrets.web.Problem;
import org.lifetimecircle.secrets.web.ProblemCode;

/**
 * Answers every {@code /api/v1} request of an instance that is not serving as the active one with 503
 * {@code standby}, naming the active instance in {@code detail} and in {@value #ACTIVE_INSTANCE}. A Vert.x
 * filter, after the request id and before authentication and audit: a standby has no audit writer, and its
 * refusal changes nothing, so a client (or nginx) may send the same request to the active one.
 */
@ApplicationScoped
public class StandbyGate {

    /** Header naming the active instance's advertise URL. */
    public static final String ACTIVE_INSTANCE = "X-Active-Instance";
    private static final String API = "/api/v1";

    private final Leadership leadership;
    private final ObjectMapper mapper;

    StandbyGate(Leadership leadership, ObjectMapper mapper) {
        this.leadership = leadership;
        this.mapper = mapper;
    }

    void register(@Observes Filters filters) {
        // After HttpFilters' request id (1000) and body limit (900).
        filters.register(this::gate, 850);
    }

    private void gate(RoutingContext rc) {
        String path = rc.normalizedPath();
        if (leadership.serving() || !(path.equals(API) || path.startsWith(API + "/"))) {
            rc.next();
            return;
        }
        String active = leadership.activeUrl().orElse(null);
        String detail;
        if (leadership.role() == Leadership.Role.ACTIVE) {
            detail = "this instance is becoming the active one; retry in a few seconds";
        } else if (active != null) {
            detail = "this instance is a standby; the active instance is " + active;
        } else {
            detail = "this instance is a standby and no active instance is known yet; retry in a few seconds";
        }
        var response = rc.response().setStatusCode(ProblemCode.STANDBY.status())
                .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                .putHeader("Retry-After", "1")
                .putHeader("Cache-Control", "no-store");
        if (active != null) {
            response.putHeader(ACTIVE_INSTANCE, active);
        }
        response.end(json(Problem.of(ProblemCode.STANDBY, detail, rc.get(HttpFilters.REQUEST_ID))));
    }

    private String json(Problem problem) {
        try {
            return mapper.writeValueAsString(problem);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a problem document", e);
        }
    }
}
