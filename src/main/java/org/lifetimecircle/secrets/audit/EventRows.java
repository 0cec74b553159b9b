package org.lifetimecircle.secrets.audit;

import java.nio.charset.StandardCharsets;
import org.lifetimecircle.secrets.db.Store;

/**
 * Reads audit_event rows for exports and verification, which go through every row. The SQLite
 * driver pays a JNI round trip (and a direct buffer) for every column it hands out: twelve
 * columns cost 3–4 µs a row, more than everything else an export does with the row. So
 * SQLite packs the row into one JSON array (its own escaping, NULL kept as null) and it is
 * unpacked here: about 1.5 µs a row (most of it SQLite building the array), with the same strings
 * {@code getString} would return.
 */
final class EventRows {

    /**
     * One column: [seq, time, actor, action, environment, target, outcome, requestId, sourceIp, details, prevHash,
     * hash], as the store spells a JSON array (PostgreSQL's has a space after each comma).
     */
    static String select(Store store) {
        return "select " + store.jsonArray("seq, time, actor, action, environment, target, outcome, "
                + "request_id, source_ip, details, prev_hash, hash") + " from audit_event";
    }
    static final int TIME = 0;
    static final int ACTOR = 1;
    static final int ACTION = 2;
    static final int ENVIRONMENT = 3;
    static final int TARGET = 4;
    static final int OUTCOME = 5;
    static final int REQUEST_ID = 6;
    static final int SOURCE_IP = 7;
    static final int DETAILS = 8;
    static final int PREV_HASH = 9;
    static final int HASH = 10;
    static final int TEXT_COLUMNS = 11;
    /** The hint for an event that was not just unpacked: any field may hold a character JSON escapes. */
    static final int ANY_ESCAPED = -1;

    private final StringBuilder unescaped = new StringBuilder(256);
    /** Bit k: text field k of the last row unpacked had an escape in the packed row ({@link #escaped()}). */
    private int escaped;

    /**
     * Decodes a row, read with {@code getBytes(1)} (the driver's getString is the slow path, see
     * above): returns its seq and puts the text columns into {@code fields}.
     */
    long read(byte[] row, String[] fields) {
        return unpack(new String(row, StandardCharsets.UTF_8), fields);
    }

    /** A row as an event. */
    AuditEvent event(byte[] row, String[] fields) {
        long seq = read(row, fields);
        return new AuditEvent(seq, fields[TIME], fields[ACTOR], fields[ACTION], fields[ENVIRONMENT], fields[TARGET],
                Outcome.valueOf(fields[OUTCOME]), fields[REQUEST_ID], fields[SOURCE_IP], fields[DETAILS],
                fields[PREV_HASH], fields[HASH]);
    }

    /**
     * Which text fields of the last row unpacked had an escape in the packed row: bit k for field k. Both stores
     * escape every character JSON must ({@code "}, {@code \}, U+0000–U+001F) when they pack a row, so a field
     * without its bit holds none of them, and the export and hash writers skip scanning it for them (those
     * scans, once per field per output, were a quarter of an export's time).
     */
    int escaped() {
        return escaped;
    }

    /** Whether field {@code field} may hold a character JSON escapes, by {@link #escaped()}'s mask. */
    static boolean mayNeedEscape(int escaped, int field) {
        return (escaped & (1 << field)) != 0;
    }

    /** Unpacks the array as {@code json_array} writes it: the seq (returned), then strings and nulls. */
    long unpack(String json, String[] fields) {
        escaped = 0;
        int i = expect(json, 0, '[');
        int comma = json.indexOf(',', i);
        if (comma < 0) {
            throw new IllegalStateException("unexpected audit row shape");
        }
        long seq = Long.parseLong(json, i, comma, 10);
        i = comma;
        // Where the next backslash is (-1: none left), so each string is searched for escapes once.
        int backslash = json.indexOf('\\', i);
        for (int k = 0; k < fields.length; k++) {
            i = skipSpaces(json, expect(json, i, ','));
            if (json.startsWith("null", i)) {
                fields[k] = null;
                i += 4;
                continue;
            }
            int start = expect(json, i, '"');
            int end = json.indexOf('"', start);
            if (end < 0) {
                throw new IllegalStateException("unexpected audit row shape");
            }
            if (backslash < 0 || backslash > end) { // the common case: nothing to unescape
                fields[k] = json.substring(start, end);
                i = end + 1;
            } else {
                i = unescape(json, start, fields, k);
                escaped |= 1 << k;
                backslash = json.indexOf('\\', i);
            }
        }
        if (expect(json, i, ']') != json.length()) {
            throw new IllegalStateException("unexpected audit row shape");
        }
        return seq;
    }

    /**
     * {@code i} is just after the opening quote; returns the index after the closing one. The runs between
     * escapes are copied whole (a details object comes with every quote in it escaped).
     */
    private int unescape(String json, int i, String[] fields, int k) {
        StringBuilder out = unescaped;
        out.setLength(0);
        int quote = -1;
        while (true) {
            int backslash = json.indexOf('\\', i);
            if (quote < i) {
                quote = json.indexOf('"', i);
                if (quote < 0) {
                    throw new IllegalStateException("unexpected audit row shape");
                }
            }
            if (backslash < 0 || quote < backslash) {
                out.append(json, i, quote);
                fields[k] = out.toString();
                return quote + 1;
            }
            out.append(json, i, backslash);
            i = backslash + 1;
            char e = json.charAt(i++);
            switch (e) {
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    out.append((char) Integer.parseInt(json, i, i + 4, 16));
                    i += 4;
                }
                case '"', '\\', '/' -> out.append(e);
                default -> throw new IllegalStateException("unexpected escape in an audit row");
            }
        }
    }

    /** Past the white space a separator may carry (PostgreSQL's arrays have a space after each comma). */
    private static int skipSpaces(String json, int i) {
        while (i < json.length() && json.charAt(i) == ' ') {
            i++;
        }
        return i;
    }

    private static int expect(String json, int i, char c) {
        i = skipSpaces(json, i);
        if (i >= json.length() || json.charAt(i) != c) {
            throw new IllegalStateException("unexpected audit row shape");
        }
        return i + 1;
    }
}
