package org.lifetimecircle.secrets.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * An RFC 9457 problem document. {@code detail} is written by our code only, never copied from an
 * exception of a library, so it cannot carry a stack trace, a class name or a submitted value.
 */
@JsonPropertyOrder({"type", "title", "status", "detail", "code", "requestId"})
public record Problem(
        String type,
        String title,
        int status,
        String detail,
        String code,
        @JsonInclude(JsonInclude.Include.NON_NULL) String requestId) {

    public static final String MEDIA_TYPE = "application/problem+json";
    private static final String TYPE_PREFIX = "urn:ltc-secrets:problem:";

    /** Builds a problem for a stable code. */
    public static Problem of(ProblemCode code, String detail, String requestId) {
        return new Problem(TYPE_PREFIX + code.code(), code.title(), code.status(), detail, code.code(), requestId);
    }
}
