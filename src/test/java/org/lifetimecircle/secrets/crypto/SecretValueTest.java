package org.lifetimecircle.secrets.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SecretValueTest {

    private static final String VALUE = "s3cr3t-Value_that-is-long-enough-to-be-a-key-0123456789abcdefghi";

    @Test
    void revealAndUtf8CopyGiveTheValueBack() {
        try (SecretValue secret = SecretValue.of(VALUE)) {
            assertThat(secret.reveal()).isEqualTo(VALUE);
            assertThat(secret.utf8Copy()).isEqualTo(VALUE.getBytes(StandardCharsets.UTF_8));
            assertThat(secret.length()).isEqualTo(VALUE.length());
        }
    }

    @Test
    void utf8CopyIsACopy() {
        try (SecretValue secret = SecretValue.of(VALUE)) {
            byte[] copy = secret.utf8Copy();
            copy[0] = 'X';

            assertThat(secret.reveal()).isEqualTo(VALUE);
        }
    }

    @Test
    void nonAsciiValuesRoundTripAndCountUtf16CharsLikeString() {
        String value = "päss€-😀-ü"; // 1-, 2-, 3- and 4-byte UTF-8 sequences

        try (SecretValue secret = SecretValue.of(value)) {
            assertThat(secret.reveal()).isEqualTo(value);
            assertThat(secret.length()).isEqualTo(value.length());
            assertThat(secret.utf8Copy()).isEqualTo(value.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void ofRefusesNullAndUnpairedSurrogates() {
        assertThatThrownBy(() -> SecretValue.of(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> SecretValue.of("abc\uD800def")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("abc");
    }

    @Test
    void toStringIsRedactedAndShowsOnlyTheLength() {
        try (SecretValue secret = SecretValue.of(VALUE)) {
            assertThat(secret.toString()).isEqualTo("SecretValue[<redacted>, 64 chars]").doesNotContain(VALUE)
                    .doesNotContain(VALUE.substring(0, 8));
            assertThat(String.valueOf(secret)).doesNotContain(VALUE);
        }
    }

    @Test
    void closeErasesTheBytesAndEveryAccessorThenThrows() throws Exception {
        SecretValue secret = SecretValue.of(VALUE);
        byte[] held = bytesOf(secret);

        secret.close();
        secret.close(); // idempotent

        assertThat(secret.isClosed()).isTrue();
        assertThat(held).containsOnly(0);
        assertThatThrownBy(secret::reveal).isInstanceOf(IllegalStateException.class).hasMessageNotContaining(VALUE);
        assertThatThrownBy(secret::utf8Copy).isInstanceOf(IllegalStateException.class);
        try (Fingerprinter fingerprinter = Fingerprinter.generate()) {
            assertThatThrownBy(() -> secret.fingerprint(fingerprinter)).isInstanceOf(IllegalStateException.class);
        }
        assertThat(secret.toString()).isEqualTo("SecretValue[<redacted>, 64 chars, closed]");
        assertThat(secret.length()).isEqualTo(64);
    }

    @Test
    void equalValuesAreEqualWithEqualHashCodes() {
        try (SecretValue a = SecretValue.of(VALUE); SecretValue b = SecretValue.of(new String(VALUE))) {
            assertThat(a).isEqualTo(b);
            assertThat(b).isEqualTo(a);
            assertThat(a).hasSameHashCodeAs(b);
            assertThat(a).isEqualTo(a);
        }
    }

    @Test
    void valuesOfTheSameLengthThatDifferInOneByteAreNotEqual() {
        String last = VALUE.substring(0, VALUE.length() - 1) + "X";
        String first = "t" + VALUE.substring(1);

        try (SecretValue a = SecretValue.of(VALUE); SecretValue b = SecretValue.of(last);
             SecretValue c = SecretValue.of(first)) {
            assertThat(a).isNotEqualTo(b).isNotEqualTo(c);
            assertThat(b).isNotEqualTo(a);
        }
    }

    @Test
    void valuesOfDifferentLengthsAreNotEqualEvenWhenOneIsAPrefix() {
        try (SecretValue a = SecretValue.of(VALUE); SecretValue prefix = SecretValue.of(VALUE.substring(0, 32));
             SecretValue empty = SecretValue.of("")) {
            assertThat(a).isNotEqualTo(prefix).isNotEqualTo(empty);
            assertThat(prefix).isNotEqualTo(a);
            assertThat(empty).isNotEqualTo(a);
        }
    }

    @Test
    void aSecretValueIsNeverEqualToItsStringOrBytes() {
        try (SecretValue a = SecretValue.of(VALUE)) {
            assertThat(a.equals(VALUE)).isFalse();
            assertThat(a.equals(VALUE.getBytes(StandardCharsets.UTF_8))).isFalse();
            assertThat(a.equals(null)).isFalse();
        }
    }

    @Test
    void hashCodeDependsOnTheLengthOnlyNotTheContent() {
        try (SecretValue a = SecretValue.of("a".repeat(40)); SecretValue b = SecretValue.of("b".repeat(40))) {
            assertThat(a.hashCode()).isEqualTo(b.hashCode());
        }
    }

    @Test
    void comparingWithAClosedValueThrows() {
        SecretValue closed = SecretValue.of(VALUE);
        closed.close();
        try (SecretValue open = SecretValue.of(VALUE)) {
            assertThatThrownBy(() -> open.equals(closed)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> closed.equals(open)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void fingerprintIsTheFingerprintOfTheUtf8Bytes() {
        try (SecretValue secret = SecretValue.of(VALUE); Fingerprinter fingerprinter = Fingerprinter.generate()) {
            assertThat(secret.fingerprint(fingerprinter))
                    .isEqualTo(fingerprinter.fingerprint(VALUE.getBytes(StandardCharsets.UTF_8)))
                    .doesNotContain(VALUE);
        }
    }

    @Test
    void adoptTakesTheArrayWithoutCopyingSoCloseErasesIt() {
        byte[] utf8 = VALUE.getBytes(StandardCharsets.UTF_8);
        SecretValue secret = SecretValue.adopt(utf8);

        assertThat(secret.reveal()).isEqualTo(VALUE);
        secret.close();
        assertThat(utf8).containsOnly(0);
    }

    /** The held array itself, read by reflection: the class offers only copies. */
    static byte[] bytesOf(SecretValue secret) throws ReflectiveOperationException {
        Field field = SecretValue.class.getDeclaredField("utf8");
        field.setAccessible(true);
        return (byte[]) field.get(secret);
    }
}
