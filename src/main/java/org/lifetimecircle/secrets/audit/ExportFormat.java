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
        out.append("{\"seq\":").append(e.seq());
        jsonField(out, "time", e.time());
        jsonField(out, "actor", e.actor());
        jsonField(out, "action", e.action());
        jsonField(out, "environment", e.environment());
        jsonField(out, "target", e.target());
        jsonField(out, "outcome", e.outcome().name());
        jsonField(out, "requestId", e.requestId());
        jsonField(out, "sourceIp", e.sourceIp());
        // Stored as the canonical JSON that was hashed: written raw, never re-encoded.
        out.append(",\"details\":").append(e.details());
        jsonField(out, "prevHash", e.prevHash());
        jsonField(out, "hash", e.hash());
        out.append('}');
    }

    private static void jsonField(StringBuilder out, String name, String value) {
        out.append(",\"").append(name).append("\":");
        if (value == null) {
            out.append("null");
        } else if (!CanonicalJson.needsEscape(value)) {
            out.append('"').append(value).append('"');
        } else {
            out.append('"');
            JSON.quoteAsString(value, out);
            out.append('"');
        }
    }

    /** One RFC 4180 record without its line break; details as canonical JSON in one field. */
    static void csv(StringBuilder out, AuditEvent e) {
        out.append(e.seq());
        csvField(out, e.time());
        csvField(out, e.actor());
        csvField(out, e.action());
        csvField(out, e.environment());
        csvField(out, e.target());
        csvField(out, e.outcome().name());
        csvField(out, e.requestId());
        csvField(out, e.sourceIp());
        csvField(out, e.details());
        csvField(out, e.prevHash());
        csvField(out, e.hash());
    }

    /** Null is an empty field (events never hold empty strings); quoted only when it must be. */
    private static void csvField(StringBuilder out, String value) {
        out.append(',');
        if (value == null) {
            return;
        }
        boolean quote = value.indexOf(',') >= 0 || value.indexOf('"') >= 0 || value.indexOf('\n') >= 0
                || value.indexOf('\r') >= 0;
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
