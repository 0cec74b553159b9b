package org.lifetimecircle.secrets.envfile;

import java.util.Arrays;

/**
 * A growable UTF-8 byte buffer that zeroes every array it lets go of, so rendering a file full of secrets
 * leaves no stray copies behind (a {@code StringBuilder} or {@code String.getBytes} would).
 */
final class ErasableBytes {

    private byte[] bytes;
    private int size;

    ErasableBytes(int capacity) {
        bytes = new byte[capacity];
    }

    /** Appends text known to be ASCII (names, the header); no secret goes through here. */
    ErasableBytes appendAscii(String ascii) {
        for (int i = 0; i < ascii.length(); i++) {
            add(ascii.charAt(i));
        }
        return this;
    }

    /** Appends {@code text} encoded as UTF-8, character by character. */
    ErasableBytes append(CharSequence text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int cp = c;
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                cp = Character.toCodePoint(c, text.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("unpaired surrogate");
            }
            encode(cp);
        }
        return this;
    }

    /** The bytes written, in an array of exactly their size; the internal buffer is zeroed. */
    byte[] toByteArrayAndErase() {
        byte[] result = Arrays.copyOf(bytes, size);
        Arrays.fill(bytes, (byte) 0);
        size = 0;
        return result;
    }

    private void encode(int cp) {
        if (cp < 0x80) {
            add(cp);
        } else if (cp < 0x800) {
            add(0xC0 | cp >> 6);
            add(0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            add(0xE0 | cp >> 12);
            add(0x80 | cp >> 6 & 0x3F);
            add(0x80 | cp & 0x3F);
        } else {
            add(0xF0 | cp >> 18);
            add(0x80 | cp >> 12 & 0x3F);
            add(0x80 | cp >> 6 & 0x3F);
            add(0x80 | cp & 0x3F);
        }
    }

    private void add(int b) {
        if (size == bytes.length) {
            byte[] bigger = Arrays.copyOf(bytes, bytes.length * 2);
            Arrays.fill(bytes, (byte) 0);
            bytes = bigger;
        }
        bytes[size++] = (byte) b;
    }
}
