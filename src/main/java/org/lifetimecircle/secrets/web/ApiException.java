package org.lifetimecircle.secrets.web;

/**
 * A refusal that becomes a problem response. Its detail must be safe to show to the caller: name
 * fields and ids, never a value that was submitted or stored.
 */
public class ApiException extends RuntimeException {

    private final ProblemCode code;

    public ApiException(ProblemCode code, String detail) {
        super(detail, null, false, false);
        this.code = code;
    }

    public ProblemCode code() {
        return code;
    }

    public static ApiException invalid(String detail) {
        return new ApiException(ProblemCode.INVALID_REQUEST, detail);
    }

    public static ApiException notFound(String detail) {
        return new ApiException(ProblemCode.NOT_FOUND, detail);
    }

    public static ApiException conflict(String detail) {
        return new ApiException(ProblemCode.CONFLICT, detail);
    }

    public static ApiException policyViolation(String detail) {
        return new ApiException(ProblemCode.POLICY_VIOLATION, detail);
    }

    public static ApiException forbidden(String detail) {
        return new ApiException(ProblemCode.FORBIDDEN, detail);
    }
}
