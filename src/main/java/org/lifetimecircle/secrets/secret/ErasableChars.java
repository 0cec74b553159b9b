package org.lifetimecircle.secrets.secret;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A secret value as characters in an array this class owns and {@link #erase()} zeroes: what the env file is
 * rendered from, so no immutable {@code String} copy of a value is ever made (a String stays in the heap
 * until collected, and heap dumps and swapped pages keep it). {@link #toString()} never shows the value.
 */
public final class ErasableChars implements CharSequence {

    private final char[] chars;
    private final int length;
    private boolean erased;

    private ErasableChars(char[] chars, int length) {
        this.chars = chars;
        this.length = length;
    }

    /**
     * Decodes UTF-8 straight into a char array (no String on the way). The caller still owns and erases
     * {@code utf8}.
     *
     * @throws IllegalArgumentException if the bytes are not well-formed UTF-8 (the message names no content)
     */
    public static ErasableChars fromUtf8(byte[] utf8) {
        // UTF-8 never needs more UTF-16 units than bytes.
        char[] chars = new char[utf8.length];
        CharBuffer out = CharBuffer.wrap(chars);
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CoderResult result = decoder.decode(ByteBuffer.wrap(utf8), out, true);
            if (result.isError()) {
                result.throwException();
            }
            decoder.flush(out);
        } catch (CharacterCodingException e) {
            Arrays.fill(chars, '\0');
            throw new IllegalArgumentException("a secret value is not well-formed UTF-8");
        }
        return new ErasableChars(chars, out.position());
    }

    @Override
    public synchronized int length() {
        checkNotErased();
        return length;
    }

    @Override
    public synchronized char charAt(int index) {
        checkNotErased();
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException(index);
        }
        return chars[index];
    }

    /** Not offered: a slice would be a second copy to erase. */
    @Override
    public CharSequence subSequence(int start, int end) {
        throw new UnsupportedOperationException("an erasable secret is not sliced");
    }

    /** Zeroes the characters; reading them afterwards throws {@link IllegalStateException}. Idempotent. */
    public synchronized void erase() {
        Arrays.fill(chars, '\0');
        erased = true;
    }

    public synchronized boolean isErased() {
        return erased;
    }

    /** Never the value: whatever prints this (a log line, an exception) gets nothing secret. */
    @Override
    public String toString() {
        return "<redacted>";
    }

    private void checkNotErased() {
        if (erased) {
            throw new IllegalStateException("the secret value has been erased");
        }
    }
}
