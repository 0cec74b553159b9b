package org.lifetimecircle.secrets.crypto;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * Keyed fingerprints of values for audit events ({@code hmac-sha256:} and 64 lowercase hex digits),
 * like Vault's audit hashes: equal values can be recognised in the log, yet a low-entropy value
 * cannot be found by guessing without the per-installation key.
 */
public final class Fingerprinter implements AutoCloseable {

    /** What every fingerprint starts with. */
    public static final String PREFIX = "hmac-sha256:";

    private static final int KEY_LENGTH = 32;
    private static final byte[] SEAL_AAD = "ltc-secrets:fingerprint-key:v1".getBytes(StandardCharsets.UTF_8);

    private final byte[] key;
    private boolean closed;

    private Fingerprinter(byte[] key) {
        if (key.length != KEY_LENGTH) {
            throw new IllegalArgumentException("a fingerprint key is " + KEY_LENGTH + " bytes");
        }
        this.key = key.clone();
    }

    /** A new random 256-bit key. */
    public static Fingerprinter generate() {
        byte[] key = new byte[KEY_LENGTH];
        try {
            Randoms.strong().nextBytes(key);
            return new Fingerprinter(key);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Test hook: a fingerprinter for a known key. Copies the key. */
    static Fingerprinter ofKey(byte[] key) {
        return new Fingerprinter(Objects.requireNonNull(key, "key"));
    }

    /** The key sealed under kek, for storage; {@link #unseal} restores it. */
    public byte[] seal(MasterKey kek) {
        byte[] copy;
        synchronized (this) {
            checkOpen();
            copy = key.clone();
        }
        try {
            return SealedBox.seal(kek, copy, SEAL_AAD);
        } finally {
            Arrays.fill(copy, (byte) 0);
        }
    }

    /** Restores a fingerprinter from {@link #seal}; fails for another kek, another kind of sealed key, or tampering. */
    public static Fingerprinter unseal(MasterKey kek, byte[] sealed) throws DecryptionFailedException {
        byte[] opened = SealedBox.open(kek, sealed, SEAL_AAD);
        try {
            if (opened.length != KEY_LENGTH) {
                throw new DecryptionFailedException(); // authentic, but not a payload we wrote
            }
            return new Fingerprinter(opened);
        } finally {
            Arrays.fill(opened, (byte) 0);
        }
    }

    /** HMAC-SHA256 of value under this installation's key, as {@code hmac-sha256:<hex>}. Thread-safe. */
    public String fingerprint(byte[] value) {
        Objects.requireNonNull(value, "value");
        KeyParameter keyParameter;
        synchronized (this) {
            checkOpen();
            keyParameter = new KeyParameter(key); // copies, so close() cannot race the computation
        }
        // A fresh HMac per call keeps this thread-safe without locking; its pads are garbage after the call.
        HMac hmac = new HMac(new SHA256Digest());
        try {
            hmac.init(keyParameter);
        } finally {
            Arrays.fill(keyParameter.getKey(), (byte) 0); // getKey() returns KeyParameter's own array
        }
        hmac.update(value, 0, value.length);
        byte[] mac = new byte[hmac.getMacSize()];
        hmac.doFinal(mac, 0);
        return PREFIX + HexFormat.of().formatHex(mac);
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /** Overwrites the key; idempotent. Fingerprinting and sealing then fail. */
    @Override
    public synchronized void close() {
        Arrays.fill(key, (byte) 0);
        closed = true;
    }

    @Override
    public String toString() {
        return "Fingerprinter[hmac-sha256, redacted]";
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the fingerprint key has been closed");
        }
    }
}
