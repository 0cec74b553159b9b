package org.lifetimecircle.secrets.web;

/**
 * A human reason given for a change (a grant, a revocation, a rotation): required, at most 500
 * characters, one line. Control characters are refused because reasons end up in audit exports,
 * CSV cells and log lines, where a newline could forge another record; so are format characters
 * (Unicode category Cf: bidirectional overrides and isolates, zero-width spaces and joiners), which
 * make a reason display differently from what it says.
 */
public record Reason(String value) {

    public static final int MAX_LENGTH = 500;

    public Reason {
        if (value == null || value.isBlank()) {
            throw ApiException.invalid("a reason is required");
        }
        if (value.length() > MAX_LENGTH) {
            throw ApiException.invalid("the reason must be at most " + MAX_LENGTH + " characters");
        }
        if (value.codePoints().anyMatch(Reason::refused)) {
            throw ApiException.invalid("the reason must be one line without control characters");
        }
        value = value.strip();
    }

    private static boolean refused(int c) {
        return Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || Character.getType(c) == Character.FORMAT;
    }

    /** The reason from a named field or query parameter, with the name in the error. */
    public static Reason of(String field, String value) {
        try {
            return new Reason(value);
        } catch (ApiException e) {
            throw ApiException.invalid("'" + field + "': " + e.getMessage());
        }
    }
}
