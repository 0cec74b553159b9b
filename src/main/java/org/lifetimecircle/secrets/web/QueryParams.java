package org.lifetimecircle.secrets.web;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** Parses the query parameters the list endpoints share; every bad value is a 400 naming the parameter. */
public final class QueryParams {

    public static final int DEFAULT_LIMIT = 100;
    public static final int MAX_LIMIT = 1000;

    private QueryParams() {
    }

    /** {@code limit}: absent means 100; 1 to 1000 otherwise. */
    public static int limit(String value) {
        if (value == null) {
            return DEFAULT_LIMIT;
        }
        long v = nonNegative("limit", value);
        if (v < 1 || v > MAX_LIMIT) {
            throw ApiException.invalid("query parameter 'limit' must be between 1 and " + MAX_LIMIT);
        }
        return (int) v;
    }

    public static long nonNegative(String name, String value) {
        try {
            long v = Long.parseLong(value);
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through to the one message
        }
        throw ApiException.invalid("query parameter '" + name + "' must be a non-negative integer");
    }

    /** {@code true} or {@code false}, exactly; absent is empty. */
    public static Optional<Boolean> bool(String name, String value) {
        if (value == null) {
            return Optional.empty();
        }
        return switch (value) {
            case "true" -> Optional.of(true);
            case "false" -> Optional.of(false);
            default -> throw ApiException.invalid("query parameter '" + name + "' must be true or false");
        };
    }

    /** An RFC 3339 time; absent is empty. */
    public static Optional<Instant> instant(String name, String value) {
        if (value == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(value));
        } catch (DateTimeParseException e) {
            throw ApiException.invalid("query parameter '" + name + "' must be an RFC 3339 time such as 2026-03-06T09:00:00Z");
        }
    }
}
