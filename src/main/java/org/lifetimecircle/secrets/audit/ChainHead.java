package org.lifetimecircle.secrets.audit;

/** The last event of the chain: the next event gets {@code seq + 1} and {@code prevHash = hash}. */
public record ChainHead(long seq, String hash) {

    /** The head of an empty chain. */
    public static final ChainHead EMPTY = new ChainHead(0, AuditEvent.GENESIS);
}
