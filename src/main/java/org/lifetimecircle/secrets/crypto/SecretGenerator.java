package org.lifetimecircle.secrets.crypto;

import java.util.Arrays;
import java.util.Objects;
import org.lifetimecircle.secrets.policy.Alphabet;

/** Generates secret values from the shared DRBG, each character drawn uniformly from the policy's alphabet. */
public final class SecretGenerator {

    /** Shortest value we generate: 32 characters of even the smallest alphabet (hex) are 128 bits. */
    public static final int MIN_LENGTH = 32;
    /** Longest value we generate; the same bound the policy validation applies. */
    public static final int MAX_LENGTH = 4096;

    private SecretGenerator() {
    }

    /**
     * A new random value of exactly length characters from alphabet.
     *
     * @throws IllegalArgumentException if length is outside [{@value #MIN_LENGTH}, {@value #MAX_LENGTH}]
     */
    public static SecretValue generate(Alphabet alphabet, int length) {
        Objects.requireNonNull(alphabet, "alphabet");
        if (length < MIN_LENGTH || length > MAX_LENGTH) {
            throw new IllegalArgumentException(
                    "a generated secret must be " + MIN_LENGTH + " to " + MAX_LENGTH + " characters, not " + length);
        }
        String characters = checkedCharacters(alphabet);
        int size = characters.length();
        // Rejection sampling: mask a random byte down to the smallest power of two >= size (which divides
        // 256, so the masked value is uniform) and discard values >= size. "byte % size" would favour the
        // first 256 % size characters (for 62 characters, 8 of them by a quarter).
        int mask = Integer.highestOneBit(size - 1) * 2 - 1;
        byte[] value = new byte[length]; // every alphabet is ASCII, so one byte per character is its UTF-8
        // At most half of the draws are rejected (size > mask / 2), so 2 * length bytes usually suffice.
        byte[] random = new byte[2 * length];
        try {
            int used = random.length;
            for (int i = 0; i < length; ) {
                if (used == random.length) {
                    Randoms.strong().nextBytes(random);
                    used = 0;
                }
                int candidate = random[used++] & mask;
                if (candidate < size) {
                    value[i++] = (byte) characters.charAt(candidate);
                }
            }
            return SecretValue.adopt(value);
        } finally {
            Arrays.fill(random, (byte) 0); // the draws are the value, in another form
        }
    }

    /** The alphabet's characters, after checking the assumptions the sampling above relies on. */
    private static String checkedCharacters(Alphabet alphabet) {
        String characters = alphabet.characters();
        if (characters.length() < 2 || characters.length() > 256) {
            throw new IllegalStateException("alphabet " + alphabet + " must have 2 to 256 characters");
        }
        for (int i = 0; i < characters.length(); i++) {
            char c = characters.charAt(i);
            if (c < 0x21 || c > 0x7e || characters.indexOf(c) != i) {
                throw new IllegalStateException("alphabet " + alphabet + " must be distinct printable ASCII characters");
            }
        }
        return characters;
    }
}
