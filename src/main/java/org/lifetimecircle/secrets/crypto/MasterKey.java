package org.lifetimecircle.secrets.crypto;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** The 32-byte key-encryption key. Final, never printed, erased by close(). */
public final class MasterKey implements AutoCloseable {

    static final int LENGTH = 32;

    // Domain separation: the id hash can never coincide with any other SHA-256 use of the key.
    private static final byte[] KEY_ID_CONTEXT = "ltc-secrets master key id\0".getBytes(StandardCharsets.US_ASCII);

    private final byte[] key;
    private final String keyId;
    private boolean destroyed;

    /** Copies {@code key}; the caller keeps (and should erase) its own array. */
    MasterKey(byte[] key) {
        if (key == null || key.length != LENGTH) {
            throw new IllegalArgumentException("a master key must be exactly " + LENGTH + " bytes");
        }
        this.key = key.clone();
        this.keyId = deriveKeyId(this.key);
    }

    /**
     * A stable, non-secret name for this key ({@code mk-} and 16 hex digits), so that wrapped keys
     * can say which KEK they need without revealing it. Still available after {@link #close()}.
     */
    public String keyId() {
        return keyId;
    }

    /**
     * A fresh copy of the raw key, which the caller must erase after use. Package-private on
     * purpose: only crypto code in this package may ever see key bytes.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    synchronized byte[] copyBytes() {
        if (destroyed) {
            throw new IllegalStateException("master key " + keyId + " has been destroyed");
        }
        return key.clone();
    }

    public synchronized boolean isDestroyed() {
        return destroyed;
    }

    /** Overwrites the key bytes; idempotent. */
    @Override
    public synchronized void close() {
        Arrays.fill(key, (byte) 0);
        destroyed = true;
    }

    @Override
    public String toString() {
        return "MasterKey[id=" + keyId + ", redacted]";
    }

    // equals/hashCode are deliberately identity: comparing key material is a job for constant-time
    // code that needs it, and two instances of one key are recognised by keyId().

    private static String deriveKeyId(byte[] key) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(KEY_ID_CONTEXT);
            sha256.update(key);
            byte[] digest = sha256.digest();
            return "mk-" + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
        }
    }
}
