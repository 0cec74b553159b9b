package org.lifetimecircle.secrets.audit;

/**
 * The two pieces of RFC 8785 the chain hash needs on its hot path: string escaping, and a check
 * that stored {@code details} text is already canonical. Everything else (and every input this
 * class is unsure of) goes through the JCS library in {@link ChainHash}.
 */
final class CanonicalJson {

    /** Integers up to 15 digits are exact as IEEE 754 doubles, so JCS prints them unchanged. */
    private static final int MAX_INTEGER_DIGITS = 15;
    private static final int MAX_DEPTH = 32;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private CanonicalJson() {
    }

    /**
     * True if a JSON string of {@code value} needs escapes: a quote, a backslash or a control
     * character. RFC 8785 and Jackson's default escape exactly these; most event fields have none,
     * and then they are copied as they are.
     */
    static boolean needsEscape(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\') {
                return true;
            }
        }
        return false;
    }

    /** Appends {@code value} as an RFC 8785 string, or {@code null}. */
    static void appendString(StringBuilder out, String value) {
        appendString(out, value, true);
    }

    /** As {@link #appendString(StringBuilder, String)}; {@code check} false: {@code value} is known to need no escape. */
    static void appendString(StringBuilder out, String value, boolean check) {
        if (value == null) {
            out.append("null");
        } else if (!check || !needsEscape(value)) {
            out.append('"').append(value).append('"');
        } else {
            out.append('"');
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\b' -> out.append("\\b");
                    case '\t' -> out.append("\\t");
                    case '\n' -> out.append("\\n");
                    case '\f' -> out.append("\\f");
                    case '\r' -> out.append("\\r");
                    default -> {
                        if (c < 0x20) {
                            out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }
    }

    /**
     * The RFC 8785 form of a flat object, written directly: every key and string value free of surrogates, every
     * value a string, a boolean, null or an integer of at most 15 digits (a read's details: fingerprint, versions,
     * flags). Keys sorted in UTF-16 order ({@link String#compareTo}). Null for anything else (nested values, other
     * numbers, surrogates), which then goes through the JCS library: this is a shortcut, never a second opinion.
     */
    static String flatObject(java.util.Map<String, Object> map) {
        String[] keys = map.keySet().toArray(new String[0]);
        java.util.Arrays.sort(keys);
        StringBuilder out = new StringBuilder(64 + 48 * keys.length).append('{');
        for (int k = 0; k < keys.length; k++) {
            Object v = map.get(keys[k]);
            if (keys[k] == null || hasSurrogate(keys[k])) {
                return null;
            }
            if (k > 0) {
                out.append(',');
            }
            appendString(out, keys[k]);
            out.append(':');
            if (v == null || v instanceof Boolean) {
                out.append(v);
            } else if (v instanceof String str) {
                if (hasSurrogate(str)) {
                    return null;
                }
                appendString(out, str);
            } else if (v instanceof Integer || v instanceof Long || v instanceof Short) {
                long n = ((Number) v).longValue();
                if (Math.abs(n) >= 1_000_000_000_000_000L) {
                    return null;
                }
                out.append(n);
            } else {
                return null;
            }
        }
        return out.append('}').toString();
    }

    private static boolean hasSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /**
     * True only if {@code json} is certainly its own RFC 8785 form: no whitespace, object keys in
     * strictly ascending UTF-16 order, strings without escapes, control characters or surrogates,
     * integers of at most 15 digits, no fractions or exponents. Conservative: false means "let the
     * library decide", never "invalid". The writer stores details in canonical form, so the check
     * passes for every event it wrote, and verification does not have to parse and re-serialise
     * every event's details.
     */
    static boolean isCanonical(String json) {
        return json != null && value(json, 0, 0) == json.length();
    }

    // Each step returns the index after what it accepted, or -1.
    private static int value(String s, int i, int depth) {
        if (i >= s.length() || depth > MAX_DEPTH) {
            return -1;
        }
        char c = s.charAt(i);
        return switch (c) {
            case '{' -> object(s, i + 1, depth + 1);
            case '[' -> array(s, i + 1, depth + 1);
            case '"' -> string(s, i + 1);
            case 't' -> literal(s, i, "true");
            case 'f' -> literal(s, i, "false");
            case 'n' -> literal(s, i, "null");
            default -> integer(s, i);
        };
    }

    private static int object(String s, int i, int depth) {
        if (i < s.length() && s.charAt(i) == '}') {
            return i + 1;
        }
        int prevKey = -1;
        int prevKeyEnd = -1;
        while (i < s.length() && s.charAt(i) == '"') {
            int keyEnd = string(s, i + 1);
            if (keyEnd < 0 || (prevKey >= 0 && compare(s, prevKey, prevKeyEnd, i + 1, keyEnd - 1) >= 0)) {
                return -1;
            }
            prevKey = i + 1;
            prevKeyEnd = keyEnd - 1;
            if (keyEnd >= s.length() || s.charAt(keyEnd) != ':') {
                return -1;
            }
            i = value(s, keyEnd + 1, depth);
            if (i < 0 || i >= s.length()) {
                return -1;
            }
            char c = s.charAt(i++);
            if (c == '}') {
                return i;
            }
            if (c != ',') {
                return -1;
            }
        }
        return -1;
    }

    private static int array(String s, int i, int depth) {
        if (i < s.length() && s.charAt(i) == ']') {
            return i + 1;
        }
        while (true) {
            i = value(s, i, depth);
            if (i < 0 || i >= s.length()) {
                return -1;
            }
            char c = s.charAt(i++);
            if (c == ']') {
                return i;
            }
            if (c != ',') {
                return -1;
            }
        }
    }

    /** {@code i} is just after the opening quote; returns the index after the closing one. */
    private static int string(String s, int i) {
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                return i + 1;
            }
            if (c < 0x20 || c == '\\' || Character.isSurrogate(c)) {
                return -1;
            }
        }
        return -1;
    }

    private static int integer(String s, int i) {
        int start = i;
        if (i < s.length() && s.charAt(i) == '-') {
            i++;
        }
        int digits = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        int n = i - digits;
        if (n == 0 || n > MAX_INTEGER_DIGITS || (s.charAt(digits) == '0' && (n > 1 || digits > start))) {
            return -1; // no digits, too long to be exact, a leading zero, or -0
        }
        return i;
    }

    private static int literal(String s, int i, String word) {
        return s.startsWith(word, i) ? i + word.length() : -1;
    }

    /** UTF-16 code unit order, as RFC 8785 sorts keys (and as {@link String#compareTo} does). */
    private static int compare(String s, int aStart, int aEnd, int bStart, int bEnd) {
        int n = Math.min(aEnd - aStart, bEnd - bStart);
        for (int k = 0; k < n; k++) {
            int d = s.charAt(aStart + k) - s.charAt(bStart + k);
            if (d != 0) {
                return d;
            }
        }
        return (aEnd - aStart) - (bEnd - bStart);
    }
}
