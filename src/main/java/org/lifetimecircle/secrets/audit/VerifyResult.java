package org.lifetimecircle.secrets.audit;

/**
 * Outcome of a chain verification. {@code firstInvalidSeq} and {@code reason} are null when valid;
 * reasons name seqs and rules, never event contents.
 */
public record VerifyResult(boolean valid, long events, long headSeq, String headHash, Long firstInvalidSeq,
                           String reason) {
}
