package org.lifetimecircle.secrets.crypto;

import java.nio.charset.StandardCharsets;
import java.security.DrbgParameters;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/** The one source of randomness for keys, tokens and nonces: a shared, thread-safe NIST SP 800-90A DRBG. */
public final class Randoms {

    private Randoms() {
    }

    /**
     * The shared DRBG. It is thread-safe (the JDK registers DRBG as {@code ThreadSafe}), so every
     * caller uses the same instance instead of seeding its own from the OS on each use.
     */
    public static SecureRandom strong() {
        return Holder.STRONG;
    }

    // Lazy holder: the DRBG is instantiated (and seeded) on first use, not when the class is loaded,
    // and without locking on every call.
    private static final class Holder {
        static final SecureRandom STRONG = create();
    }

    private static SecureRandom create() {
        // 256-bit strength because the DRBG also produces 256-bit keys. Prediction resistance would
        // reseed from the OS on every call (slow, and may block); periodic reseeding is enough here.
        // The personalization string separates this instance's output from other DRBGs on the host.
        DrbgParameters.Instantiation params = DrbgParameters.instantiation(
                256, DrbgParameters.Capability.RESEED_ONLY, "ltc-secrets".getBytes(StandardCharsets.US_ASCII));
        try {
            return SecureRandom.getInstance("DRBG", params);
        } catch (NoSuchAlgorithmException e) {
            // Every Java 9+ runtime ships DRBG; without it we must not fall back to something weaker.
            throw new IllegalStateException("this Java runtime provides no 256-bit DRBG SecureRandom", e);
        }
    }
}
