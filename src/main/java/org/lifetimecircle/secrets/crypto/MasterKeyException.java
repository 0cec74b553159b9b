package org.lifetimecircle.secrets.crypto;

/** The master key file cannot be used; the message names the file, the problem and the fix, never key material. */
public final class MasterKeyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    MasterKeyException(String message) {
        super(message);
    }

    // Only I/O failures carry a cause: their messages name paths, never file content. Parse
    // failures never do, because e.g. Base64's messages quote the offending character.
    MasterKeyException(String message, Throwable cause) {
        super(message, cause);
    }
}
