package org.lifetimecircle.secrets.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.lifetimecircle.secrets.crypto.SealedBoxTest.assertDecryptionFails;
import static org.lifetimecircle.secrets.crypto.SealedBoxTest.randomKey;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.crypto.Envelope.Binding;
import org.lifetimecircle.secrets.policy.Alphabet;

class EnvelopeTest {

    private static final String VALUE = "Zx9-kQ2_vT7mL4pR8sW1nB6cH3jF5dG0aE2yU7iO9tK4wM1q";
    private static final Binding BINDING = new Binding("prod", "LTC_SECRET_KEY", 3);

    private final MasterKey kek = randomKey();
    private final MasterKey otherKek = randomKey();
    private final SecretValue value = SecretValue.of(VALUE);

    @AfterEach
    void close() {
        kek.close();
        otherKek.close();
        value.close();
    }

    // ---- happy path --------------------------------------------------------------------------------

    @Test
    void encryptThenDecryptGivesTheValueBack() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        try (SecretValue decrypted = Envelope.decrypt(kek, blob, BINDING)) {
            assertThat(decrypted).isEqualTo(value);
            assertThat(decrypted.reveal()).isEqualTo(VALUE);
        }
    }

    @ParameterizedTest
    @EnumSource(Alphabet.class)
    void generatedValuesOfEveryAlphabetAndLengthRoundTrip(Alphabet alphabet) {
        for (int length : new int[] {32, 64, 255, 256, 4096}) {
            try (SecretValue generated = SecretGenerator.generate(alphabet, length)) {
                byte[] blob = Envelope.encrypt(kek, generated, BINDING);

                try (SecretValue decrypted = Envelope.decrypt(kek, blob, BINDING)) {
                    assertThat(decrypted).isEqualTo(generated);
                    assertThat(decrypted.length()).isEqualTo(length);
                }
            }
        }
    }

    @Test
    void importedNonAsciiAndEmptyValuesRoundTrip() {
        for (String imported : List.of("päss€-😀-ü-and-some-more-characters-to-be-long", "")) {
            try (SecretValue secret = SecretValue.of(imported)) {
                try (SecretValue decrypted = Envelope.decrypt(kek, Envelope.encrypt(kek, secret, BINDING), BINDING)) {
                    assertThat(decrypted.reveal()).isEqualTo(imported);
                    assertThat(decrypted.length()).isEqualTo(imported.length());
                }
            }
        }
    }

    @Test
    void blobHasTheDocumentedLayout() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);
        byte[] keyId = kek.keyId().getBytes(StandardCharsets.US_ASCII);
        int sealedKeyLength = 2 + keyId.length + 12 + 32 + 16;

        assertThat(blob[0]).isEqualTo((byte) 0x01);
        assertThat(blob[1]).isEqualTo((byte) 0x01); // the SealedBox's own version
        assertThat(blob[2] & 0xff).isEqualTo(keyId.length);
        assertThat(Arrays.copyOfRange(blob, 3, 3 + keyId.length)).isEqualTo(keyId);
        assertThat(blob).hasSize(1 + sealedKeyLength + 12 + VALUE.length() + 16);
    }

    @Test
    void jdkAesGcmDecryptsTheValueWithTheDocumentedAssociatedData() throws Exception {
        // Pins the format to standard AES-256-GCM and the documented AAD, independently of Bouncy Castle.
        byte[] blob = Envelope.encrypt(kek, value, BINDING);
        int sealedKeyLength = 2 + (blob[2] & 0xff) + 60;
        byte[] binding = documentedBinding("prod", "LTC_SECRET_KEY", 3);
        byte[] dataKey = SealedBox.open(kek, Arrays.copyOfRange(blob, 1, 1 + sealedKeyLength),
                concat(new byte[] {1}, "ltc-secrets:envelope:data-key\0".getBytes(StandardCharsets.US_ASCII), binding));
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(dataKey, "AES"),
                new GCMParameterSpec(128, blob, 1 + sealedKeyLength, 12));
        Arrays.fill(dataKey, (byte) 0);
        cipher.updateAAD(concat(new byte[] {1}, "ltc-secrets:envelope:value\0".getBytes(StandardCharsets.US_ASCII),
                binding));

        byte[] plaintext = cipher.doFinal(blob, 1 + sealedKeyLength + 12, blob.length - sealedKeyLength - 13);

        assertThat(new String(plaintext, StandardCharsets.UTF_8)).isEqualTo(VALUE);
    }

    @Test
    void twoEncryptionsOfTheSameValueDifferInDataKeyNonceAndCiphertext() {
        byte[] first = Envelope.encrypt(kek, value, BINDING);
        byte[] second = Envelope.encrypt(kek, value, BINDING);
        int sealedKeyEnd = 1 + 2 + kek.keyId().length() + 60;

        assertThat(first).isNotEqualTo(second);
        assertThat(Arrays.copyOfRange(first, 1, sealedKeyEnd)).isNotEqualTo(Arrays.copyOfRange(second, 1, sealedKeyEnd));
        assertThat(Arrays.copyOfRange(first, sealedKeyEnd, first.length))
                .isNotEqualTo(Arrays.copyOfRange(second, sealedKeyEnd, second.length));
    }

    @Test
    void thePlaintextDoesNotAppearInTheBlob() {
        byte[] plaintext = VALUE.getBytes(StandardCharsets.UTF_8);
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        assertThat(indexOf(blob, plaintext)).isEqualTo(-1);
        // Nor any 8-byte piece of it (guards against a partial or XOR-free copy).
        for (int i = 0; i + 8 <= plaintext.length; i++) {
            assertThat(indexOf(blob, Arrays.copyOfRange(plaintext, i, i + 8))).isEqualTo(-1);
        }
    }

    @Test
    void encryptAndDecryptLeaveTheirInputsUnchanged() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);
        byte[] before = blob.clone();

        Envelope.decrypt(kek, blob, BINDING).close();

        assertThat(blob).isEqualTo(before);
        assertThat(value.reveal()).isEqualTo(VALUE);
    }

    @Test
    void keyIdOfNamesTheWrappingMasterKey() {
        assertThat(Envelope.keyIdOf(Envelope.encrypt(kek, value, BINDING))).isEqualTo(kek.keyId());
        assertThat(Envelope.keyIdOf(Envelope.encrypt(otherKek, value, BINDING))).isEqualTo(otherKek.keyId());
    }

    // ---- every failure looks the same ------------------------------------------------------------------

    @Test
    void aBlobMovedToAnotherRowFails() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        assertDecryptionFails(() -> Envelope.decrypt(kek, blob, new Binding("staging", "LTC_SECRET_KEY", 3)));
        assertDecryptionFails(() -> Envelope.decrypt(kek, blob, new Binding("prod", "LTC_OTHER_KEY", 3)));
        assertDecryptionFails(() -> Envelope.decrypt(kek, blob, new Binding("prod", "LTC_SECRET_KEY", 2)));
        assertDecryptionFails(() -> Envelope.decrypt(kek, blob, new Binding("prod", "LTC_SECRET_KEY", 4)));
        assertDecryptionFails(() -> Envelope.decrypt(kek, blob, new Binding("PROD", "LTC_SECRET_KEY", 3)));
    }

    @Test
    void theBindingEncodingIsUnambiguous() {
        // Plain concatenation would make these two bindings the same bytes.
        Binding split = new Binding("prod-a", "B", 1);
        Binding shifted = new Binding("prod-", "aB", 1);
        byte[] blob = Envelope.encrypt(kek, value, split);

        assertThat(split.encoded()).isNotEqualTo(shifted.encoded());
        assertThat(split.encoded()).isEqualTo(documentedBinding("prod-a", "B", 1));
        assertDecryptionFails(() -> Envelope.decrypt(kek, blob, shifted));
    }

    @Test
    void anotherMasterKeyFails() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        assertDecryptionFails(() -> Envelope.decrypt(otherKek, blob, BINDING));
    }

    @Test
    void anotherMasterKeyFailsEvenWhenTheKeyIdIsForgedToMatch() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);
        byte[] otherId = otherKek.keyId().getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(otherId, 0, blob, 3, otherId.length); // same length: "mk-" + 16 hex

        assertThat(Envelope.keyIdOf(blob)).isEqualTo(otherKek.keyId());
        assertDecryptionFails(() -> Envelope.decrypt(otherKek, blob, BINDING));
        assertDecryptionFails(() -> Envelope.decrypt(kek, blob, BINDING));
    }

    @Test
    void flippingAnyBitOfTheBlobFails() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        for (int position = 0; position < blob.length; position++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] tampered = blob.clone();
                tampered[position] ^= (byte) (1 << bit);
                assertDecryptionFails(() -> Envelope.decrypt(kek, tampered, BINDING));
            }
        }
    }

    @Test
    void truncatingTheBlobToAnyLengthFails() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        for (int length = 0; length < blob.length; length++) {
            byte[] truncated = Arrays.copyOf(blob, length);
            assertDecryptionFails(() -> Envelope.decrypt(kek, truncated, BINDING));
        }
    }

    @Test
    void appendingBytesFails() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        assertDecryptionFails(() -> Envelope.decrypt(kek, Arrays.copyOf(blob, blob.length + 1), BINDING));
    }

    @ParameterizedTest
    @ValueSource(ints = {0x00, 0x02, 0x7f, 0x80, 0xff})
    void anUnknownFormatVersionFails(int version) {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);
        blob[0] = (byte) version;

        assertDecryptionFails(() -> Envelope.decrypt(kek, blob, BINDING));
        assertDecryptionFails(() -> Envelope.keyIdOf(blob));
        assertDecryptionFails(() -> Envelope.rewrap(kek, otherKek, blob, BINDING));
    }

    @Test
    void emptyAndGarbageInputFail() {
        assertDecryptionFails(() -> Envelope.decrypt(kek, new byte[0], BINDING));
        assertDecryptionFails(() -> Envelope.keyIdOf(new byte[0]));
        for (int length : new int[] {1, 2, 3, 50, 110, 111, 200, 4096}) {
            for (int i = 0; i < 20; i++) {
                byte[] garbage = new byte[length];
                Randoms.strong().nextBytes(garbage);
                if (i % 2 == 0 && length > 0) {
                    garbage[0] = 0x01; // get past the version check
                }
                assertDecryptionFails(() -> Envelope.decrypt(kek, garbage, BINDING));
            }
        }
    }

    @Test
    void aSealedBoxOfTheRightShapeIsNotAcceptedAsAnEnvelope() {
        // A plain SealedBox under the same KEK (as Fingerprinter or AuditSigner make) must not be mistaken
        // for an envelope or its data key, thanks to the labels in the associated data.
        byte[] sealedKey = SealedBox.seal(kek, new byte[32], BINDING.encoded());
        byte[] blob = concat(new byte[] {1}, sealedKey, new byte[12 + 16]);

        assertDecryptionFails(() -> Envelope.decrypt(kek, blob, BINDING));
    }

    @Test
    void allFailuresCarryTheSameMessageAndNoCause() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);
        byte[] badVersion = blob.clone();
        badVersion[0] = 9;
        byte[] badWrappedKey = blob.clone();
        badWrappedKey[40] ^= 1;
        byte[] badTag = blob.clone();
        badTag[blob.length - 1] ^= 1;

        List<DecryptionFailedException> failures = new ArrayList<>(List.of(
                failure(() -> Envelope.decrypt(kek, blob, new Binding("staging", "LTC_SECRET_KEY", 3))),
                failure(() -> Envelope.decrypt(otherKek, blob, BINDING)),
                failure(() -> Envelope.decrypt(kek, badVersion, BINDING)),
                failure(() -> Envelope.decrypt(kek, badWrappedKey, BINDING)),
                failure(() -> Envelope.decrypt(kek, badTag, BINDING)),
                failure(() -> Envelope.decrypt(kek, Arrays.copyOf(blob, 5), BINDING)),
                failure(() -> Envelope.decrypt(kek, new byte[0], BINDING)),
                failure(() -> Envelope.rewrap(otherKek, kek, blob, BINDING)),
                failure(() -> Envelope.keyIdOf(new byte[] {1, 1, 0}))));

        for (DecryptionFailedException e : failures) {
            assertThat(e).hasMessage("decryption failed").hasNoCause();
            assertThat(e.getSuppressed()).isEmpty();
        }
    }

    // ---- master-key rotation ---------------------------------------------------------------------------

    @Test
    void rewrapMovesTheBlobToTheNewMasterKey() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        byte[] rewrapped = Envelope.rewrap(kek, otherKek, blob, BINDING);

        assertThat(Envelope.keyIdOf(rewrapped)).isEqualTo(otherKek.keyId());
        try (SecretValue decrypted = Envelope.decrypt(otherKek, rewrapped, BINDING)) {
            assertThat(decrypted.reveal()).isEqualTo(VALUE);
        }
        assertDecryptionFails(() -> Envelope.decrypt(kek, rewrapped, BINDING));
    }

    @Test
    void rewrapKeepsTheValueCiphertextAndChangesOnlyTheSealedKey() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);
        int sealedKeyEnd = 1 + 2 + kek.keyId().length() + 60;

        byte[] rewrapped = Envelope.rewrap(kek, otherKek, blob, BINDING);

        int newSealedKeyEnd = 1 + 2 + otherKek.keyId().length() + 60;
        assertThat(Arrays.copyOfRange(rewrapped, newSealedKeyEnd, rewrapped.length))
                .isEqualTo(Arrays.copyOfRange(blob, sealedKeyEnd, blob.length));
        assertThat(Arrays.copyOfRange(rewrapped, 1, newSealedKeyEnd))
                .isNotEqualTo(Arrays.copyOfRange(blob, 1, sealedKeyEnd));
    }

    @Test
    void rewrapRefusesTheWrongOldKeyOrBinding() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        assertDecryptionFails(() -> Envelope.rewrap(otherKek, kek, blob, BINDING));
        assertDecryptionFails(() -> Envelope.rewrap(kek, otherKek, blob, new Binding("prod", "LTC_SECRET_KEY", 4)));
    }

    @Test
    void aRewrappedBlobStillCannotMoveToAnotherRow() {
        byte[] rewrapped = Envelope.rewrap(kek, otherKek, Envelope.encrypt(kek, value, BINDING), BINDING);

        assertDecryptionFails(() -> Envelope.decrypt(otherKek, rewrapped, new Binding("prod", "LTC_SECRET_KEY", 4)));
    }

    // ---- the encryption cap ----------------------------------------------------------------------------

    @Test
    void encryptionIsRefusedOnceTheMasterKeyHasWrappedItsLimit() {
        WrapLimit limit = new WrapLimit(3);
        for (int i = 0; i < 3; i++) {
            Envelope.encrypt(kek, value, BINDING, limit);
        }

        assertThatThrownBy(() -> Envelope.encrypt(kek, value, BINDING, limit))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("master key has reached its encryption limit; rotate it");
        assertThatThrownBy(() -> Envelope.encrypt(kek, value, BINDING, limit))
                .isInstanceOf(IllegalStateException.class); // and stays refused
        assertThat(limit.used(kek.keyId())).isEqualTo(3);
        // Another master key has its own count, and decryption does not count.
        Envelope.encrypt(otherKek, value, BINDING, limit);
        Envelope.decrypt(otherKek, Envelope.encrypt(otherKek, value, BINDING, limit), BINDING).close();
        assertThat(limit.used(otherKek.keyId())).isEqualTo(2);
    }

    @Test
    void theCapIsPerKeyIdSoTwoInstancesOfOneKeyShareIt() {
        WrapLimit limit = new WrapLimit(1);
        byte[] raw = kek.copyBytes();
        try (MasterKey sameKey = new MasterKey(raw)) {
            Envelope.encrypt(kek, value, BINDING, limit);

            assertThatThrownBy(() -> Envelope.encrypt(sameKey, value, BINDING, limit))
                    .isInstanceOf(IllegalStateException.class);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    @Test
    void rewrapCountsAgainstTheNewMasterKey() {
        WrapLimit limit = new WrapLimit(1);
        byte[] first = Envelope.encrypt(kek, value, BINDING, limit);
        byte[] second = Envelope.encrypt(kek, value, new Binding("prod", "LTC_SECRET_KEY", 4));

        Envelope.rewrap(kek, otherKek, first, BINDING, limit);

        assertThatThrownBy(() -> Envelope.rewrap(kek, otherKek, second, new Binding("prod", "LTC_SECRET_KEY", 4), limit))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(WrapLimit.EXHAUSTED);
    }

    @Test
    void theDefaultCapIsTheNistRandomNonceLimit() {
        assertThat(WrapLimit.RANDOM_NONCE_LIMIT).isEqualTo(4_294_967_296L);
        assertThatThrownBy(() -> new WrapLimit(0)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- misuse ----------------------------------------------------------------------------------------

    @Test
    void bindingsAreValidated() {
        assertThatThrownBy(() -> new Binding(null, "S", 1)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Binding("prod", null, 1)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Binding("", "S", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Binding(" \t", "S", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Binding("prod", " ", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Binding("prod", "S", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Binding("prod", "S", -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Binding("prod\uD800", "S", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new Binding("prod", "S", Long.MAX_VALUE).version()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void nullArgumentsAreProgrammingErrorsNotDecryptionFailures() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);

        assertThatThrownBy(() -> Envelope.encrypt(null, value, BINDING)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Envelope.encrypt(kek, null, BINDING)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Envelope.encrypt(kek, value, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Envelope.decrypt(kek, null, BINDING)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Envelope.decrypt(kek, blob, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Envelope.keyIdOf(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Envelope.rewrap(kek, null, blob, BINDING)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void closedKeysAndValuesAreRefused() {
        MasterKey closedKek = randomKey();
        byte[] blob = Envelope.encrypt(closedKek, value, BINDING);
        closedKek.close();
        SecretValue closedValue = SecretValue.of(VALUE);
        closedValue.close();

        assertThatThrownBy(() -> Envelope.encrypt(closedKek, value, BINDING)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Envelope.decrypt(closedKek, blob, BINDING)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Envelope.encrypt(kek, closedValue, BINDING)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closingOneDecryptedValueLeavesAnotherIntact() {
        byte[] blob = Envelope.encrypt(kek, value, BINDING);
        SecretValue a = Envelope.decrypt(kek, blob, BINDING);
        SecretValue b = Envelope.decrypt(kek, blob, BINDING);

        a.close();

        assertThat(b.reveal()).isEqualTo(VALUE);
        b.close();
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    private static byte[] documentedBinding(String environment, String secret, long version) {
        byte[] env = environment.getBytes(StandardCharsets.UTF_8);
        byte[] name = secret.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + env.length + 4 + name.length + 8)
                .putInt(env.length).put(env).putInt(name.length).put(name).putLong(version).array();
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] all = new byte[length];
        int offset = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, offset, part.length);
            offset += part.length;
        }
        return all;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static DecryptionFailedException failure(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        DecryptionFailedException e = catchThrowableOfType(DecryptionFailedException.class, call);
        assertThat(e).as("expected DecryptionFailedException").isNotNull();
        return e;
    }
}
