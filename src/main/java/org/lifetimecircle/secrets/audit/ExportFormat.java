package org.lifetimecircle.secrets.audit;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * The two export line formats, written by hand because an export is millions of lines: building
 * each line in one reused buffer is several times faster than serialising a record per line.
 * The bytes are the contract that auditors' tools (and {@code tools/audit-verify}) read, so they
 * must not change: a JSONL line is exactly what Jackson writes for {@link AuditEvent} (string
 * escaping is Jackson's own encoder), and {@code ExportFormatTest} holds both formats to that.
 */
final class ExportFormat {

    static final String CSV_HEADER = "seq,time,actor,action,environment,target,outcome,requestId,sourceIp,details,"
            + "prevHash,hash";

    private static final JsonStringEncoder JSON = JsonStringEncoder.getInstance();

    private ExportFormat() {
    }

    /** One JSON object, fields in {@link AuditEvent}'s order, details raw, nulls written; no newline. */
    static void jsonl(StringBuilder out, AuditEvent e) {
        jsonl(out, e, EventRows.ANY_ESCAPED);
    }

    /** As {@link #jsonl(StringBuilder, AuditEvent)}, for an event just unpacked with {@link EventRows#escaped()}. */
    static void jsonl(StringBuilder out, AuditEvent e, int escaped) {
        out.append("{\"seq\":").append(e.seq());
        jsonField(out, "time", e.time(), EventRows.mayNeedEscape(escaped, EventRows.TIME));
        jsonField(out, "actor", e.actor(), EventRows.mayNeedEscape(escaped, EventRows.ACTOR));
        jsonField(out, "action", e.action(), EventRows.mayNeedEscape(escaped, EventRows.ACTION));
        jsonField(out, "environment", e.environment(), EventRows.mayNeedEscape(escaped, EventRows.ENVIRONMENT));
        jsonField(out, "target", e.target(), EventRows.mayNeedEscape(escaped, EventRows.TARGET));
        jsonField(out, "outcome", e.outcome().name(), false);
        jsonField(out, "requestId", e.requestId(), EventRows.mayNeedEscape(escaped, EventRows.REQUEST_ID));
        jsonField(out, "sourceIp", e.sourceIp(), EventRows.mayNeedEscape(escaped, EventRows.SOURCE_IP));
        // Stored as the canonical JSON that was hashed: written raw, never re-encoded.
        out.append(",\"details\":").append(e.details());
        jsonField(out, "prevHash", e.prevHash(), EventRows.mayNeedEscape(escaped, EventRows.PREV_HASH));
        jsonField(out, "hash", e.hash(), EventRows.mayNeedEscape(escaped, EventRows.HASH));
        out.append('}');
    }

    /** {@code check}: whether {@code value} may hold a character to escape (false only when known not to). */
    private static void jsonField(StringBuilder out, String name, String value, boolean check) {
        out.append(",\"").append(name).append("\":");
        if (value == null) {
            out.append("null");
        } else if (!check || !CanonicalJson.needsEscape(value)) {
            out.append('"').append(value).append('"');
        } else {
            out.append('"');
            JSON.quoteAsString(value, out);
            out.append('"');
        }
    }

    /** One RFC 4180 record without its line break; details as canonical JSON in one field. */
    static void csv(StringBuilder out, AuditEvent e) {
        csv(out, e, EventRows.ANY_ESCAPED);
    }

    /** As {@link #csv(StringBuilder, AuditEvent)}, for an event just unpacked with {@link EventRows#escaped()}. */
    static void csv(StringBuilder out, AuditEvent e, int escaped) {
        out.append(e.seq());
        csvField(out, e.time(), EventRows.mayNeedEscape(escaped, EventRows.TIME));
        csvField(out, e.actor(), EventRows.mayNeedEscape(escaped, EventRows.ACTOR));
        csvField(out, e.action(), EventRows.mayNeedEscape(escaped, EventRows.ACTION));
        csvField(out, e.environment(), EventRows.mayNeedEscape(escaped, EventRows.ENVIRONMENT));
        csvField(out, e.target(), EventRows.mayNeedEscape(escaped, EventRows.TARGET));
        csvField(out, e.outcome().name(), false);
        csvField(out, e.requestId(), EventRows.mayNeedEscape(escaped, EventRows.REQUEST_ID));
        csvField(out, e.sourceIp(), EventRows.mayNeedEscape(escaped, EventRows.SOURCE_IP));
        csvField(out, e.details(), EventRows.mayNeedEscape(escaped, EventRows.DETAILS));
        csvField(out, e.prevHash(), EventRows.mayNeedEscape(escaped, EventRows.PREV_HASH));
        csvField(out, e.hash(), EventRows.mayNeedEscape(escaped, EventRows.HASH));
    }

    /**
     * Null is an empty field (events never hold empty strings); quoted only when it must be. {@code check}: whether
     * {@code value} may hold a quote or a line break (false only when known not to); a comma it may hold anyway.
     */
    private static void csvField(StringBuilder out, String value, boolean check) {
        out.append(',');
        if (value == null) {
            return;
        }
        boolean quote = value.indexOf(',') >= 0
                || check && (value.indexOf('"') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0);
        if (!quote) {
            out.append(value);
            return;
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            out.append(c);
            if (c == '"') {
                out.append('"');
            }
        }
        out.append('"');
    }
}
