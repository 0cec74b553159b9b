package org.lifetimecircle.secrets.crypto;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the data keys each master key (by key id) has wrapped in this process and refuses to wrap past
 * a limit. In memory only: it resets on restart, so it guards against a runaway loop, not a lifetime.
 */
final class WrapLimit {

    /** NIST SP 800-38D: at most 2^32 AES-GCM encryptions with random 96-bit nonces under one key. */
    static final long RANDOM_NONCE_LIMIT = 1L << 32;
    static final String EXHAUSTED = "master key has reached its encryption limit; rotate it";

    private final long limit;
    private final ConcurrentMap<String, AtomicLong> counts = new ConcurrentHashMap<>();

    WrapLimit(long limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("the wrap limit must be positive");
        }
        this.limit = limit;
    }

    /** Counts one wrap under keyId, or throws IllegalStateException if keyId has used up its limit. */
    void acquire(String keyId) {
        AtomicLong count = counts.computeIfAbsent(keyId, id -> new AtomicLong());
        // Stops counting at the limit, so refusals cannot overflow the counter.
        if (count.getAndUpdate(c -> c < limit ? c + 1 : c) >= limit) {
            throw new IllegalStateException(EXHAUSTED);
        }
    }

    /** How many wraps keyId has used (for tests and, later, a metric). */
    long used(String keyId) {
        AtomicLong count = counts.get(keyId);
        return count == null ? 0 : count.get();
    }
}
