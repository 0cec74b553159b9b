package org.lifetimecircle.secrets.crypto;

/**
 * Which master key stored data was sealed under, read from its header. Key ids are public, so this
 * needs no key: it lets start-up decide what a master-key rotation has to re-wrap, and name the key
 * ids in a refusal.
 */
public final class KeyIds {

    private KeyIds() {
    }

    /** The key id of a sealed key (an installation key), or {@link DecryptionFailedException} if malformed. */
    public static String ofSealedKey(byte[] sealed) throws DecryptionFailedException {
        return SealedBox.keyIdOf(sealed);
    }

    /** The key id of a secret version's {@link Envelope} blob, or {@link DecryptionFailedException} if malformed. */
    public static String ofEnvelope(byte[] blob) throws DecryptionFailedException {
        return Envelope.keyIdOf(blob);
    }
}
