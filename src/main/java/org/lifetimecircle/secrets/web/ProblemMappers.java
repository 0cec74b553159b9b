package org.lifetimecircle.secrets.web;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Maps every exception to a problem response, once, in one place. Details are composed here from
 * field names and codes; messages of library exceptions are never passed on because they can
 * contain submitted values.
 */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);
    /** What a 429 asks the client to wait: an export or a verification usually ends within seconds. */
    static final int RETRY_AFTER_SECONDS = 5;
    private static final Pattern SAFE_FIELD = Pattern.compile("[A-Za-z0-9_.\\[\\]-]{1,64}");

    @ServerExceptionMapper
    public Response api(ApiException e, HttpHeaders headers) {
        return respond(e.code(), e.getMessage(), headers);
    }

    @ServerExceptionMapper
    public Response unknownField(UnrecognizedPropertyException e, HttpHeaders headers) {
        return respond(ProblemCode.INVALID_REQUEST, "unknown field " + quoted(path(e)), headers);
    }

    @ServerExceptionMapper
    public Response mismatch(MismatchedInputException e, HttpHeaders headers) {
        String field = path(e);
        String detail = field.isEmpty()
                ? "request body has the wrong shape; expected " + describe(e.getTargetType())
                : "field " + quoted(field) + " has the wrong type; expected " + describe(e.getTargetType());
        if (e instanceof InvalidFormatException && e.getTargetType() != null && e.getTargetType().isEnum()) {
            detail = "field " + quoted(field) + " has a value that is not allowed";
        }
        return respond(ProblemCode.INVALID_REQUEST, detail, headers);
    }

    @ServerExceptionMapper
    public Response mapping(JsonMappingException e, HttpHeaders headers) {
        // Record constructors validate their input; Jackson wraps what they throw.
        if (e.getCause() instanceof ApiException api) {
            return api(api, headers);
        }
        String field = path(e);
        return respond(ProblemCode.INVALID_REQUEST,
                field.isEmpty() ? "request body is not valid" : "field " + quoted(field) + " is not valid", headers);
    }

    @ServerExceptionMapper
    public Response parse(JsonParseException e, HttpHeaders headers) {
        var loc = e.getLocation();
        String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        return respond(ProblemCode.INVALID_REQUEST, "malformed JSON" + where, headers);
    }

    @ServerExceptionMapper
    public Response constraints(StreamConstraintsException e, HttpHeaders headers) {
        return respond(ProblemCode.INVALID_REQUEST, "JSON nesting or size exceeds the limits", headers);
    }

    @ServerExceptionMapper
    public Response json(JsonProcessingException e, HttpHeaders headers) {
        return respond(ProblemCode.INVALID_REQUEST, "malformed JSON", headers);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, HttpHeaders headers) {
        int status = e.getResponse().getStatus();
        ProblemCode code = ProblemCode.forStatus(status);
        String detail = switch (code) {
            case NOT_FOUND -> "no such resource";
            case METHOD_NOT_ALLOWED -> "method not allowed on this resource";
            case UNSUPPORTED_MEDIA_TYPE -> "send the body as application/json";
            case NOT_ACCEPTABLE -> "the requested media type is not available";
            case TOO_LARGE -> "request body too large";
            default -> status >= 500 ? "the request could not be completed" : "the request is not valid";
        };
        if (status >= 500) {
            LOG.errorf(e, "request %s failed with status %d", requestId(headers), status);
        }
        Response response = respond(code, detail, headers);
        if (status == 405 && e.getResponse().getHeaderString("Allow") != null) {
            return Response.fromResponse(response).header("Allow", e.getResponse().getHeaderString("Allow")).build();
        }
        return response;
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable e, HttpHeaders headers) {
        // The log keeps the stack trace for operators; the caller gets only the request id.
        LOG.errorf(e, "request %s failed", requestId(headers));
        return respond(ProblemCode.INTERNAL, "the request could not be completed; quote the request id", headers);
    }

    /** Builds the problem response for a code. */
    public static Response respond(ProblemCode code, String detail, HttpHeaders headers) {
        Response.ResponseBuilder builder = Response.status(code.status())
                .type(Problem.MEDIA_TYPE)
                .entity(Problem.of(code, detail, requestId(headers)));
        if (code == ProblemCode.UNAUTHORIZED) {
            builder.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"ltc-secrets\"");
        }
        if (code == ProblemCode.TOO_MANY_REQUESTS) {
            builder.header(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
        }
        return builder.build();
    }

    private static String requestId(HttpHeaders headers) {
        return headers == null ? null : headers.getHeaderString(HttpFilters.REQUEST_ID);
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."))
                .replace(".[", "[");
    }

    private static String quoted(String field) {
        return SAFE_FIELD.matcher(field).matches() ? "'" + field + "'" : "(unprintable name)";
    }

    private static String describe(Class<?> type) {
        if (type == null) {
            return "a JSON object";
        }
        if (CharSequence.class.isAssignableFrom(type) || type.isEnum()) {
            return "a string";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "an integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "a boolean";
        }
        if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        if (type.getName().startsWith("java.time.")) {
            return "a string in ISO-8601 form";
        }
        return "a JSON object";
    }
}
