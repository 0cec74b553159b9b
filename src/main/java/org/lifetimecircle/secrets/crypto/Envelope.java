package org.lifetimecircle.secrets.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.MultiBlockCipher;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.modes.gcm.BasicGCMMultiplier;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * Envelope encryption of secret versions: each value under a fresh AES-256-GCM data key, which the
 * master key wraps, both bound to the version's environment, secret name and version number.
 *
 * <pre>
 * blob       = 0x01 | sealed key | 12-byte nonce | value ciphertext || 16-byte tag
 * sealed key = the data key in a {@link SealedBox} under the master key (fixed length 62 + n):
 *              0x01 | n | n ASCII bytes of the master key id | 12-byte nonce | 32-byte wrapped key || 16-byte tag
 *
 * AAD of the sealed key = SealedBox header (0x01 | n | key id) || 0x01 || "ltc-secrets:envelope:data-key\0" || binding
 * AAD of the value      =                                        0x01 || "ltc-secrets:envelope:value\0"    || binding
 * binding               = u32 length | UTF-8 environment | u32 length | UTF-8 secret | u64 version  (big-endian)
 * </pre>
 *
 * <p>Every byte is authenticated: the format version by both tags, the key id and the wrapped key by
 * the sealed key's tag, nonce and ciphertext by the value's tag, and a wrong binding fails both. The
 * key id is deliberately not in the value's AAD, so that {@link #rewrap} can move a value to a new
 * master key without touching its ciphertext; only the data key the key id's tag vouches for opens it.
 */
public final class Envelope {

    static final byte VERSION_1 = 0x01;
    static final int DATA_KEY_LENGTH = 32;
    static final int NONCE_LENGTH = 12;
    static final int TAG_LENGTH = 16;
    // The labels separate the two AADs from each other and from every other SealedBox use of the KEK.
    static final byte[] DATA_KEY_LABEL = "ltc-secrets:envelope:data-key\0".getBytes(StandardCharsets.US_ASCII);
    static final byte[] VALUE_LABEL = "ltc-secrets:envelope:value\0".getBytes(StandardCharsets.US_ASCII);

    // One process-wide count per master key id: every wrap with a random nonce counts, wherever it comes from.
    private static final WrapLimit WRAPS = new WrapLimit(WrapLimit.RANDOM_NONCE_LIMIT);
    // Used only to overwrite the AES round keys after use (AESEngine.init clears the previous schedule).
    private static final byte[] ZERO_KEY = new byte[DATA_KEY_LENGTH];

    /** Where a secret version lives; a blob only decrypts with the binding it was encrypted with. */
    public record Binding(String environment, String secret, long version) {

        /**
         * Where an IMPORT's value waits for a second person's approval: bound to that request (the secret's
         * name with {@code #approval-<id>}), so the blob opens for that request only, never as a version.
         */
        public static Binding awaitingApproval(String environment, String secret, String approvalId) {
            return new Binding(environment, secret + "#approval-" + approvalId, 1);
        }

        public Binding {
            requireText(environment, "environment");
            requireText(secret, "secret");
            if (version < 1) {
                throw new IllegalArgumentException("version must be at least 1, not " + version);
            }
        }

        private static void requireText(String value, String what) {
            Objects.requireNonNull(value, what);
            if (value.isBlank()) {
                throw new IllegalArgumentException(what + " must not be blank");
            }
            // An unpaired surrogate would become '?' in UTF-8, and two bindings would encode alike.
            if (!StandardCharsets.UTF_8.newEncoder().canEncode(value)) {
                throw new IllegalArgumentException(what + " must be well-formed Unicode");
            }
        }

        /** The canonical, unambiguous encoding that goes into the associated data. */
        byte[] encoded() {
            byte[] env = environment.getBytes(StandardCharsets.UTF_8);
            byte[] name = secret.getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(4 + env.length + 4 + name.length + 8)
                    .putInt(env.length).put(env)
                    .putInt(name.length).put(name)
                    .putLong(version)
                    .array();
        }
    }

    private Envelope() {
    }

    /**
     * Encrypts value for binding under a fresh data key wrapped by kek.
     *
     * @throws IllegalStateException if kek has wrapped its limit of data keys (rotate it), or kek or
     *     value is closed
     */
    public static byte[] encrypt(MasterKey kek, SecretValue value, Binding binding) {
        return encrypt(kek, value, binding, WRAPS);
    }

    /** Test hook: {@link #encrypt(MasterKey, SecretValue, Binding)} counting against another limit. */
    static byte[] encrypt(MasterKey kek, SecretValue value, Binding binding, WrapLimit wraps) {
        Objects.requireNonNull(kek, "kek");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(binding, "binding");
        byte[] bindingBytes = binding.encoded();
        byte[] plaintext = value.utf8Copy();
        byte[] dataKey = new byte[DATA_KEY_LENGTH];
        try {
            wraps.acquire(kek.keyId());
            Randoms.strong().nextBytes(dataKey);
            byte[] sealedKey = SealedBox.seal(kek, dataKey, aad(DATA_KEY_LABEL, bindingBytes));
            byte[] nonce = new byte[NONCE_LENGTH];
            Randoms.strong().nextBytes(nonce);
            int bodyOffset = 1 + sealedKey.length + NONCE_LENGTH;
            byte[] blob = new byte[Math.addExact(bodyOffset, Math.addExact(plaintext.length, TAG_LENGTH))];
            blob[0] = VERSION_1;
            System.arraycopy(sealedKey, 0, blob, 1, sealedKey.length);
            System.arraycopy(nonce, 0, blob, 1 + sealedKey.length, NONCE_LENGTH);
            int written = aesGcm(true, dataKey, nonce, aad(VALUE_LABEL, bindingBytes),
                    plaintext, 0, plaintext.length, blob, bodyOffset);
            if (written != plaintext.length + TAG_LENGTH) {
                throw new IllegalStateException("AES-GCM produced an unexpected length");
            }
            return blob;
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e); // cannot happen when encrypting
        } finally {
            Arrays.fill(dataKey, (byte) 0);
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    /**
     * Decrypts a blob made by {@link #encrypt} under kek for the same binding. Every failure (wrong key
     * or binding, tampering, truncation, unknown format) is the same {@link DecryptionFailedException}.
     *
     * @throws IllegalStateException if kek is closed (a programming error, not a property of the blob)
     */
    public static SecretValue decrypt(MasterKey kek, byte[] blob, Binding binding) throws DecryptionFailedException {
        Objects.requireNonNull(kek, "kek");
        Objects.requireNonNull(blob, "blob");
        Objects.requireNonNull(binding, "binding");
        byte[] bindingBytes = binding.encoded();
        int sealedKeyLength = sealedKeyLength(blob);
        byte[] dataKey = unwrap(kek, blob, sealedKeyLength, bindingBytes);
        int nonceOffset = 1 + sealedKeyLength;
        int bodyOffset = nonceOffset + NONCE_LENGTH;
        int bodyLength = blob.length - bodyOffset;
        byte[] plaintext = new byte[bodyLength - TAG_LENGTH];
        boolean ok = false;
        try {
            byte[] nonce = Arrays.copyOfRange(blob, nonceOffset, bodyOffset);
            int written = aesGcm(false, dataKey, nonce, aad(VALUE_LABEL, bindingBytes),
                    blob, bodyOffset, bodyLength, plaintext, 0);
            if (written != plaintext.length) {
                throw new DecryptionFailedException();
            }
            SecretValue value = SecretValue.adopt(plaintext);
            ok = true;
            return value;
        } catch (InvalidCipherTextException | RuntimeException e) {
            // Never attach the cause: Bouncy Castle's message names the failing check.
            throw new DecryptionFailedException();
        } finally {
            Arrays.fill(dataKey, (byte) 0);
            if (!ok) {
                // BC's GCM writes plaintext before it has checked the tag: never leave unverified plaintext behind.
                Arrays.fill(plaintext, (byte) 0);
            }
        }
    }

    /** The id of the master key that wrapped blob's data key, so the caller can pick the KEK during rotation. */
    public static String keyIdOf(byte[] blob) throws DecryptionFailedException {
        Objects.requireNonNull(blob, "blob");
        return SealedBox.keyIdOf(Arrays.copyOfRange(blob, 1, 1 + sealedKeyLength(blob)));
    }

    /**
     * The same blob with its data key re-wrapped from oldKek to newKek, for master-key rotation; the
     * value's nonce and ciphertext are copied unchanged and never decrypted. Fails like
     * {@link #decrypt} if the data key does not open under oldKek and binding; damage to the value's
     * ciphertext is not detected here, it still fails at {@link #decrypt}.
     *
     * @throws IllegalStateException if newKek has wrapped its limit of data keys, or a key is closed
     */
    public static byte[] rewrap(MasterKey oldKek, MasterKey newKek, byte[] blob, Binding binding)
            throws DecryptionFailedException {
        return rewrap(oldKek, newKek, blob, binding, WRAPS);
    }

    /** Test hook: {@link #rewrap(MasterKey, MasterKey, byte[], Binding)} counting against another limit. */
    static byte[] rewrap(MasterKey oldKek, MasterKey newKek, byte[] blob, Binding binding, WrapLimit wraps)
            throws DecryptionFailedException {
        Objects.requireNonNull(oldKek, "oldKek");
        Objects.requireNonNull(newKek, "newKek");
        Objects.requireNonNull(blob, "blob");
        Objects.requireNonNull(binding, "binding");
        byte[] bindingBytes = binding.encoded();
        int sealedKeyLength = sealedKeyLength(blob);
        byte[] dataKey = unwrap(oldKek, blob, sealedKeyLength, bindingBytes);
        try {
            wraps.acquire(newKek.keyId());
            byte[] resealed = SealedBox.seal(newKek, dataKey, aad(DATA_KEY_LABEL, bindingBytes));
            int tailOffset = 1 + sealedKeyLength;
            int tailLength = blob.length - tailOffset;
            byte[] rewrapped = new byte[1 + resealed.length + tailLength];
            rewrapped[0] = VERSION_1;
            System.arraycopy(resealed, 0, rewrapped, 1, resealed.length);
            System.arraycopy(blob, tailOffset, rewrapped, 1 + resealed.length, tailLength);
            return rewrapped;
        } finally {
            Arrays.fill(dataKey, (byte) 0);
        }
    }

    // ---- format ----------------------------------------------------------------------------------

    /**
     * Checks the version and that the blob is long enough to hold a sealed key, a nonce and a tag;
     * returns the sealed key's length. The sealed key is a SealedBox of a 32-byte key, so its length
     * follows from the key id length at blob[2]; SealedBox itself checks its own header.
     */
    private static int sealedKeyLength(byte[] blob) {
        if (blob.length < 3 || blob[0] != VERSION_1) {
            throw new DecryptionFailedException();
        }
        int keyIdLength = blob[2] & 0xff;
        int sealedKeyLength = 2 + keyIdLength + SealedBox.NONCE_LENGTH + DATA_KEY_LENGTH + SealedBox.TAG_LENGTH;
        if (blob.length < 1 + sealedKeyLength + NONCE_LENGTH + TAG_LENGTH) {
            throw new DecryptionFailedException();
        }
        return sealedKeyLength;
    }

    /** Opens the sealed data key; the caller erases the result. */
    private static byte[] unwrap(MasterKey kek, byte[] blob, int sealedKeyLength, byte[] bindingBytes) {
        byte[] sealedKey = Arrays.copyOfRange(blob, 1, 1 + sealedKeyLength);
        byte[] dataKey = SealedBox.open(kek, sealedKey, aad(DATA_KEY_LABEL, bindingBytes));
        if (dataKey.length != DATA_KEY_LENGTH) {
            Arrays.fill(dataKey, (byte) 0);
            throw new DecryptionFailedException(); // authentic, but not a payload we wrote
        }
        return dataKey;
    }

    /** The format version, then a fixed label, then the binding: each part fixed-length or length-prefixed. */
    private static byte[] aad(byte[] label, byte[] bindingBytes) {
        byte[] aad = new byte[1 + label.length + bindingBytes.length];
        aad[0] = VERSION_1;
        System.arraycopy(label, 0, aad, 1, label.length);
        System.arraycopy(bindingBytes, 0, aad, 1 + label.length, bindingBytes.length);
        return aad;
    }

    // ---- AES-256-GCM under the data key ------------------------------------------------------------

    private static int aesGcm(boolean encrypt, byte[] dataKey, byte[] nonce, byte[] aad,
                              byte[] in, int inOffset, int inLength, byte[] out, int outOffset)
            throws InvalidCipherTextException {
        MultiBlockCipher aes = AESEngine.newInstance();
        GCMModeCipher gcm = newGcm(aes);
        KeyParameter key = new KeyParameter(dataKey); // copies
        try {
            gcm.init(encrypt, new AEADParameters(key, TAG_LENGTH * 8, nonce));
            gcm.processAADBytes(aad, 0, aad.length);
            int written = gcm.processBytes(in, inOffset, inLength, out, outOffset);
            return written + gcm.doFinal(out, outOffset + written);
        } finally {
            // KeyParameter's own array (GCM keeps it as lastKey) and the AES round keys are as good as the key.
            Arrays.fill(key.getKey(), (byte) 0);
            aes.init(false, new KeyParameter(ZERO_KEY));
        }
    }

    /**
     * GCM with the table-free multiplier: our messages are a few blocks under a key used once, so
     * building the default 4 KiB table of multiples of H for every key costs more than the whole
     * decryption (about 7 of 10 µs each time); without tables GHASH is also free of key-dependent
     * memory lookups. The output is the same AES-GCM.
     */
    static GCMModeCipher newGcm(MultiBlockCipher aes) {
        return GCMBlockCipher.newInstance(aes, new BasicGCMMultiplier());
    }
}
