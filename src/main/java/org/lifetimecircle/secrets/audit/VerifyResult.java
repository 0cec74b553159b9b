package org.lifetimecircle.secrets.audit;

/**
 * Outcome of a chain verification. {@code firstInvalidSeq} and {@code reason} are null when valid;
 * reasons name seqs and rules, never event contents. After an archive the live chain starts at
 * {@code archivedThroughSeq + 1}, linked to the signed anchor of {@code anchorFile}; both are null
 * while nothing was archived.
 */
public record VerifyResult(boolean valid, long events, long headSeq, String headHash, Long firstInvalidSeq,
                           String reason, Long archivedThroughSeq, String anchorFile) {
}
