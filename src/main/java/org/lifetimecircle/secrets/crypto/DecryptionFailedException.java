package org.lifetimecircle.secrets.crypto;

/**
 * A sealed value could not be opened. Deliberately uninformative: wrong key, wrong associated data,
 * tampering, truncation and an unknown format all look the same, so that callers cannot branch on
 * the cause and an attacker learns nothing from the error.
 */
public final class DecryptionFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    static final String MESSAGE = "decryption failed";

    // No cause, ever: a Bouncy Castle exception would name the failing check (e.g. "mac check in GCM failed").
    DecryptionFailedException() {
        super(MESSAGE);
    }
}
