package org.lifetimecircle.secrets.crypto;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.MultiBlockCipher;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * AES-256-GCM under the master key: random 96-bit nonce, associated data bound in, versioned format
 * with the key id.
 *
 * <pre>
 * 0x01 | n | n ASCII bytes of the key id | 12-byte nonce | ciphertext || 16-byte tag
 * </pre>
 *
 * <p>The header (version, n and key id) is authenticated too: GCM's associated data is
 * {@code header || associatedData}. The header is self-delimiting, so that concatenation is
 * unambiguous, and no byte of a box can change without the tag check failing.
 *
 * <p>Random nonces are safe for up to 2^32 seals per key (NIST SP 800-38D), far above the number of
 * data keys one master key wraps before it is rotated.
 */
final class SealedBox {

    static final byte VERSION_1 = 0x01;
    static final int NONCE_LENGTH = 12;
    static final int TAG_LENGTH = 16;
    private static final int KEY_LENGTH = 32;
    private static final int MAX_KEY_ID_LENGTH = 255;
    // Used only to overwrite the AES round keys after use (AESEngine.init clears the previous schedule).
    private static final byte[] ZERO_KEY = new byte[KEY_LENGTH];

    private SealedBox() {
    }

    /** Encrypts plaintext under kek, binding associatedData (which is not stored in the box). */
    static byte[] seal(MasterKey kek, byte[] plaintext, byte[] associatedData) {
        Objects.requireNonNull(kek, "kek");
        Objects.requireNonNull(plaintext, "plaintext");
        Objects.requireNonNull(associatedData, "associatedData");
        byte[] header = header(kek.keyId());
        byte[] nonce = new byte[NONCE_LENGTH];
        Randoms.strong().nextBytes(nonce);
        int bodyOffset = header.length + NONCE_LENGTH;
        byte[] sealed = new byte[Math.addExact(bodyOffset, Math.addExact(plaintext.length, TAG_LENGTH))];
        System.arraycopy(header, 0, sealed, 0, header.length);
        System.arraycopy(nonce, 0, sealed, header.length, NONCE_LENGTH);
        MultiBlockCipher aes = AESEngine.newInstance();
        GCMModeCipher gcm = Envelope.newGcm(aes);
        KeyParameter key = keyParameter(kek);
        try {
            gcm.init(true, new AEADParameters(key, TAG_LENGTH * 8, nonce));
            gcm.processAADBytes(header, 0, header.length);
            gcm.processAADBytes(associatedData, 0, associatedData.length);
            int written = gcm.processBytes(plaintext, 0, plaintext.length, sealed, bodyOffset);
            written += gcm.doFinal(sealed, bodyOffset + written);
            if (written != plaintext.length + TAG_LENGTH) {
                throw new IllegalStateException("AES-GCM produced an unexpected length");
            }
            return sealed;
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e); // cannot happen when encrypting
        } finally {
            erase(key, aes);
        }
    }

    /** Decrypts a box made by {@link #seal} under the same kek and associatedData. */
    static byte[] open(MasterKey kek, byte[] sealed, byte[] associatedData) throws DecryptionFailedException {
        Objects.requireNonNull(kek, "kek");
        Objects.requireNonNull(sealed, "sealed");
        Objects.requireNonNull(associatedData, "associatedData");
        int headerLength = headerLength(sealed);
        // Key ids are public, so comparing them in variable time reveals nothing; a mismatch is
        // reported exactly like a failed tag so callers never branch on the kind of failure.
        if (!kek.keyId().equals(keyIdAt(sealed, headerLength))) {
            throw new DecryptionFailedException();
        }
        int bodyOffset = headerLength + NONCE_LENGTH;
        int bodyLength = sealed.length - bodyOffset;
        byte[] plaintext = new byte[bodyLength - TAG_LENGTH];
        MultiBlockCipher aes = AESEngine.newInstance();
        GCMModeCipher gcm = Envelope.newGcm(aes);
        KeyParameter key = keyParameter(kek);
        boolean ok = false;
        try {
            byte[] nonce = Arrays.copyOfRange(sealed, headerLength, bodyOffset);
            gcm.init(false, new AEADParameters(key, TAG_LENGTH * 8, nonce));
            gcm.processAADBytes(sealed, 0, headerLength);
            gcm.processAADBytes(associatedData, 0, associatedData.length);
            int written = gcm.processBytes(sealed, bodyOffset, bodyLength, plaintext, 0);
            written += gcm.doFinal(plaintext, written);
            if (written != plaintext.length) {
                throw new DecryptionFailedException();
            }
            ok = true;
            return plaintext;
        } catch (InvalidCipherTextException | RuntimeException e) {
            // BC reports a bad tag as InvalidCipherTextException; anything else it might throw on
            // hostile input is mapped the same way. Never attach the cause: its message names the check.
            throw new DecryptionFailedException();
        } finally {
            if (!ok) {
                // BC's GCM writes plaintext before it has checked the tag: never leave unverified plaintext behind.
                Arrays.fill(plaintext, (byte) 0);
            }
            erase(key, aes);
        }
    }

    /** The id of the master key a box was sealed under, so a caller can pick the right KEK during rotation. */
    static String keyIdOf(byte[] sealed) throws DecryptionFailedException {
        Objects.requireNonNull(sealed, "sealed");
        return keyIdAt(sealed, headerLength(sealed));
    }

    // ---- format ----------------------------------------------------------------------------------

    private static byte[] header(String keyId) {
        byte[] id = keyId.getBytes(StandardCharsets.US_ASCII);
        if (id.length == 0 || id.length > MAX_KEY_ID_LENGTH || !printableAscii(id, 0, id.length)) {
            throw new IllegalArgumentException("a key id must be 1 to " + MAX_KEY_ID_LENGTH + " printable ASCII"
                    + " characters");
        }
        byte[] header = new byte[2 + id.length];
        header[0] = VERSION_1;
        header[1] = (byte) id.length;
        System.arraycopy(id, 0, header, 2, id.length);
        return header;
    }

    /** Validates the version and overall length; returns the header length (2 + key id length). */
    private static int headerLength(byte[] sealed) {
        if (sealed.length < 2 || sealed[0] != VERSION_1) {
            throw new DecryptionFailedException();
        }
        int idLength = sealed[1] & 0xff;
        int headerLength = 2 + idLength;
        if (idLength == 0 || sealed.length < headerLength + NONCE_LENGTH + TAG_LENGTH
                || !printableAscii(sealed, 2, idLength)) {
            throw new DecryptionFailedException();
        }
        return headerLength;
    }

    private static String keyIdAt(byte[] sealed, int headerLength) {
        return new String(sealed, 2, headerLength - 2, StandardCharsets.US_ASCII);
    }

    private static boolean printableAscii(byte[] bytes, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (bytes[i] < 0x21 || bytes[i] > 0x7e) {
                return false;
            }
        }
        return true;
    }

    // ---- key handling ----------------------------------------------------------------------------

    private static KeyParameter keyParameter(MasterKey kek) {
        byte[] bytes = kek.copyBytes();
        try {
            return new KeyParameter(bytes); // copies
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /**
     * Overwrites the KeyParameter's copy (getKey() returns its own array, which GCM also keeps as
     * lastKey) and the AES round keys, which are as good as the key. GCM's hash subkey H stays in
     * garbage-collected memory; it allows forgeries under this key, not decryption.
     */
    private static void erase(KeyParameter key, MultiBlockCipher aes) {
        Arrays.fill(key.getKey(), (byte) 0);
        aes.init(false, new KeyParameter(ZERO_KEY));
    }
}
