package org.lifetimecircle.secrets.web;

/** The stable {@code code}s of problem responses; clients switch on these, so never rename one. */
public enum ProblemCode {
    INVALID_REQUEST(400, "invalid-request", "Invalid request"),
    UNAUTHORIZED(401, "unauthorized", "Unauthorized"),
    FORBIDDEN(403, "forbidden", "Forbidden"),
    NOT_FOUND(404, "not-found", "Not found"),
    METHOD_NOT_ALLOWED(405, "method-not-allowed", "Method not allowed"),
    NOT_ACCEPTABLE(406, "not-acceptable", "Not acceptable"),
    CONFLICT(409, "conflict", "Conflict"),
    TOO_LARGE(413, "too-large", "Request body too large"),
    UNSUPPORTED_MEDIA_TYPE(415, "unsupported-media-type", "Unsupported media type"),
    POLICY_VIOLATION(422, "policy-violation", "Against policy"),
    /** Too many of a bounded kind of request at once (audit export and verify); answered with Retry-After. */
    TOO_MANY_REQUESTS(429, "too-many-requests", "Too many requests"),
    INTERNAL(500, "internal-error", "Internal error"),
    /** The env file could not be written (permissions, disk, a link or directory in its place); nothing changed. */
    ENV_FILE_UNWRITABLE(500, "env-file-unwritable", "Env file not written"),
    UNAVAILABLE(503, "unavailable", "Service unavailable"),
    /**
     * This instance is a standby on a shared PostgreSQL store (or still taking over): the request was not
     * looked at; {@code X-Active-Instance} names the active one. After UNAVAILABLE: a bare 503 stays "unavailable".
     */
    STANDBY(503, "standby", "Standby instance");

    private final int status;
    private final String code;
    private final String title;

    ProblemCode(int status, String code, String title) {
        this.status = status;
        this.code = code;
        this.title = title;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String title() {
        return title;
    }

    /** The code a bare HTTP status maps to, for errors raised by the framework. */
    public static ProblemCode forStatus(int status) {
        for (ProblemCode c : values()) {
            if (c.status == status) {
                return c;
            }
        }
        return status >= 500 ? INTERNAL : INVALID_REQUEST;
    }
}
