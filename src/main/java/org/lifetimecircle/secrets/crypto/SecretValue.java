package org.lifetimecircle.secrets.crypto;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * The value of a secret, held as UTF-8 bytes that {@link #close()} overwrites; never printed, compared
 * in constant time. Use it in try-with-resources.
 *
 * <p>The value leaves this class only through {@link #utf8Copy()} and {@link #reveal()}, so every place
 * that handles plaintext can be found by searching for those two names.
 */
public final class SecretValue implements AutoCloseable {

    private final byte[] utf8;
    // Not secret (toString shows it, and equal values have equal lengths), so kept after close.
    private final int length;
    private boolean closed;

    private SecretValue(byte[] utf8) {
        this.utf8 = utf8;
        this.length = utf16Length(utf8);
    }

    /**
     * A secret value from a string, e.g. an imported one; callers validate it against the policy. The
     * string itself is immutable and cannot be erased, so keep its own lifetime short.
     *
     * @throws IllegalArgumentException if value is not well-formed Unicode (an unpaired surrogate),
     *     which UTF-8 cannot represent without silently changing the value
     */
    public static SecretValue of(String value) {
        Objects.requireNonNull(value, "value");
        CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer encoded;
        try {
            encoded = encoder.encode(CharBuffer.wrap(value));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("a secret value must be well-formed Unicode (no unpaired surrogates)");
        }
        byte[] utf8 = new byte[encoded.remaining()];
        encoded.get(utf8);
        if (encoded.hasArray()) {
            Arrays.fill(encoded.array(), (byte) 0); // the encoder's buffer is larger than utf8; erase it too
        }
        return new SecretValue(utf8);
    }

    /**
     * Takes ownership of utf8 without copying (so no second copy is left behind): the caller must not
     * keep, read or erase the array afterwards. For the generator and for decryption.
     */
    static SecretValue adopt(byte[] utf8) {
        return new SecretValue(Objects.requireNonNull(utf8, "utf8"));
    }

    /** The length in UTF-16 chars, like {@link String#length()}; still available after close. */
    public int length() {
        return length;
    }

    /**
     * A fresh copy of the value's UTF-8 bytes, which the caller must erase ({@code Arrays.fill}) after
     * use. Prefer this to {@link #reveal()}.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized byte[] utf8Copy() {
        checkOpen();
        return utf8.clone();
    }

    /**
     * The value as a String, only where it must leave the process as text (the env file, the HTTP
     * response that serves it). The String is immutable and cannot be erased: it stays in memory until
     * garbage collected, so never keep it, log it or put it in an exception.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized String reveal() {
        checkOpen();
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /** The value's {@code hmac-sha256:} fingerprint for audit events, without copying the value out. */
    public synchronized String fingerprint(Fingerprinter fingerprinter) {
        Objects.requireNonNull(fingerprinter, "fingerprinter");
        checkOpen();
        return fingerprinter.fingerprint(utf8);
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /** Overwrites the value; idempotent. Reading it then throws {@link IllegalStateException}. */
    @Override
    public synchronized void close() {
        Arrays.fill(utf8, (byte) 0);
        closed = true;
    }

    /**
     * Equal when both hold the same bytes, compared in constant time for values of equal length (the
     * length itself is not secret). Throws {@link IllegalStateException} if either value is closed:
     * a closed value has nothing left to compare.
     */
    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof SecretValue other)) {
            return false;
        }
        // Copy the other value instead of locking both, so a.equals(b) and b.equals(a) cannot deadlock.
        byte[] theirs = other.utf8Copy();
        try {
            synchronized (this) {
                checkOpen();
                return MessageDigest.isEqual(utf8, theirs);
            }
        } finally {
            Arrays.fill(theirs, (byte) 0);
        }
    }

    /** Depends on the length only: a hash of the content would leak information about it. */
    @Override
    public int hashCode() {
        return Integer.hashCode(length);
    }

    @Override
    public synchronized String toString() {
        return "SecretValue[<redacted>, " + length + " chars" + (closed ? ", closed]" : "]");
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the secret value has been closed");
        }
    }

    /** UTF-16 length of well-formed UTF-8, counted without decoding (decoding would leave a char copy). */
    private static int utf16Length(byte[] utf8) {
        int chars = 0;
        for (byte b : utf8) {
            if ((b & 0xc0) != 0x80) {
                chars++; // a lead byte starts one code point...
            }
            if ((b & 0xf8) == 0xf0) {
                chars++; // ...and a 4-byte one is a supplementary character: two UTF-16 chars
            }
        }
        return chars;
    }
}
