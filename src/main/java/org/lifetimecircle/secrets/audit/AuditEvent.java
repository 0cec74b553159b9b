package org.lifetimecircle.secrets.audit;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonRawValue;

/**
 * A chained audit event exactly as stored and hashed. {@code details} is the canonical JSON text
 * that went into the hash, so it is written out raw, never re-encoded.
 */
@JsonPropertyOrder({"seq", "time", "actor", "action", "environment", "target", "outcome", "requestId", "sourceIp",
        "details", "prevHash", "hash"})
public record AuditEvent(long seq, String time, String actor, String action, String environment, String target,
                         Outcome outcome, String requestId, String sourceIp, @JsonRawValue String details,
                         String prevHash, String hash) {

    /** The hash of the event before the first one. */
    public static final String GENESIS = "0".repeat(64);
}
