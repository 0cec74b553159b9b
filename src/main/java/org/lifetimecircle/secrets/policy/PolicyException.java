package org.lifetimecircle.secrets.policy;

import java.util.Objects;

/** A policy file that cannot be used, named by file, field path and reason; never carries a variable's value. */
public final class PolicyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String file;
    private final String field;
    private final String reason;

    public PolicyException(String file, String field, String reason) {
        // No cause is ever attached: parser exceptions quote the offending line, which may hold a value.
        super(Objects.requireNonNull(file, "file") + ": " + Objects.requireNonNull(field, "field") + ": "
                + Objects.requireNonNull(reason, "reason"));
        this.file = file;
        this.field = field;
        this.reason = reason;
    }

    /** The file (or directory) at fault, as given to the loader. */
    public String file() {
        return file;
    }

    /** The dotted field path such as {@code envFile.mode}, or a pseudo-field in parentheses such as {@code (yaml)}. */
    public String field() {
        return field;
    }

    /** What is wrong and, where it helps, how to fix it. */
    public String reason() {
        return reason;
    }
}
