package org.lifetimecircle.secrets.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.policy.Alphabet;

class SecretGeneratorTest {

    @ParameterizedTest
    @EnumSource(Alphabet.class)
    void valuesHaveTheLengthAndUseOnlyTheAlphabet(Alphabet alphabet) {
        for (int length : new int[] {32, 33, 64, 100, 4096}) {
            try (SecretValue value = SecretGenerator.generate(alphabet, length)) {
                String revealed = value.reveal();
                assertThat(revealed).hasSize(length);
                assertThat(value.length()).isEqualTo(length);
                assertThat(value.utf8Copy()).hasSize(length);
                for (char c : revealed.toCharArray()) {
                    assertThat(alphabet.characters()).contains(String.valueOf(c));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Alphabet.class)
    void thousandValuesAreAllDistinct(Alphabet alphabet) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            try (SecretValue value = SecretGenerator.generate(alphabet, 32)) {
                seen.add(value.reveal());
            }
        }
        assertThat(seen).hasSize(1000);
    }

    /**
     * Chi-square over 64,000 characters with a bound ten standard deviations above the mean (df + 10 *
     * sqrt(2 df)): a fair generator essentially never exceeds it, while "byte % 62" would (its eight
     * favoured characters alone add about 500 for ALPHANUMERIC).
     */
    @ParameterizedTest
    @EnumSource(Alphabet.class)
    void charactersAreRoughlyUniform(Alphabet alphabet) {
        String characters = alphabet.characters();
        int size = characters.length();
        long[] counts = new long[size];
        int total = 0;
        for (int i = 0; i < 250; i++) {
            try (SecretValue value = SecretGenerator.generate(alphabet, 256)) {
                for (char c : value.reveal().toCharArray()) {
                    counts[characters.indexOf(c)]++;
                    total++;
                }
            }
        }
        double expected = (double) total / size;
        double chiSquare = 0;
        for (long count : counts) {
            chiSquare += (count - expected) * (count - expected) / expected;
        }
        int df = size - 1;

        assertThat(chiSquare).isLessThan(df + 10 * Math.sqrt(2.0 * df));
        for (long count : counts) {
            assertThat((double) count).isBetween(expected * 0.8, expected * 1.2);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 1, 16, 31, 4097, Integer.MAX_VALUE})
    void lengthsOutsideTheAllowedRangeAreRefused(int length) {
        assertThatThrownBy(() -> SecretGenerator.generate(Alphabet.BASE64URL, length))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("32");
    }

    @Test
    void nullAlphabetIsRefused() {
        assertThatThrownBy(() -> SecretGenerator.generate(null, 64)).isInstanceOf(NullPointerException.class);
    }
}
