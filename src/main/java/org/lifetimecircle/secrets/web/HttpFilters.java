package org.lifetimecircle.secrets.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.regex.Pattern;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;

/**
 * Vert.x filters that run before any route, so that every response, including /q/* and errors
 * raised outside the REST layer, carries a request id, and oversized bodies are refused before
 * anything reads them.
 */
@ApplicationScoped
public class HttpFilters {

    /** Header that correlates a request with its log lines and audit event. */
    public static final String REQUEST_ID = "X-Request-Id";

    // A client's id is echoed only if it is short and plain: it ends up in logs and audit events,
    // so anything that could forge a log line or smuggle a value is replaced by our own id.
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private final LtcSecretsConfig config;
    private final ObjectMapper mapper;

    HttpFilters(LtcSecretsConfig config, ObjectMapper mapper) {
        this.config = config;
        this.mapper = mapper;
    }

    void register(@Observes Filters filters) {
        filters.register(this::requestId, 1000);
        filters.register(this::bodyLimit, 900);
        filters.register(this::emptyBodyIsJson, 800);
    }

    /**
     * {@code curl -X POST …/tokens} sends no body, and clients put any Content-Type (or none) on an
     * empty body. Endpoints whose body is optional should accept that, so an empty body is declared
     * JSON (and then read as "no body"); a body with content must still be application/json.
     */
    private void emptyBodyIsJson(RoutingContext rc) {
        var headers = rc.request().headers();
        if (!headers.contains(HttpHeaders.TRANSFER_ENCODING)) {
            String length = headers.get(HttpHeaders.CONTENT_LENGTH);
            if (length == null || length.trim().equals("0")) {
                headers.set(HttpHeaders.CONTENT_TYPE, "application/json");
            }
        }
        rc.next();
    }

    private void requestId(RoutingContext rc) {
        String given = rc.request().getHeader(REQUEST_ID);
        String id = given != null && SAFE_ID.matcher(given).matches() ? given : RequestIds.newId();
        // Later handlers (REST resources, exception mappers) read the normalised id from the request.
        rc.request().headers().set(REQUEST_ID, id);
        rc.put(REQUEST_ID, id);
        rc.addHeadersEndHandler(v -> rc.response().headers().set(REQUEST_ID, id));
        rc.next();
    }

    private void bodyLimit(RoutingContext rc) {
        String length = rc.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null && tooLarge(length)) {
            Problem problem = Problem.of(ProblemCode.TOO_LARGE,
                    "request body exceeds " + config.maxBodySize() + " bytes", rc.get(REQUEST_ID));
            rc.response()
                    .setStatusCode(413)
                    .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                    .putHeader(HttpHeaders.CONNECTION, "close")
                    .end(json(problem));
            return;
        }
        rc.next();
    }

    private boolean tooLarge(String contentLength) {
        try {
            return Long.parseLong(contentLength.trim()) > config.maxBodySize();
        } catch (NumberFormatException e) {
            return false; // Vert.x itself rejects a malformed Content-Length
        }
    }

    private String json(Problem problem) {
        try {
            return mapper.writeValueAsString(problem);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a problem document", e);
        }
    }
}
