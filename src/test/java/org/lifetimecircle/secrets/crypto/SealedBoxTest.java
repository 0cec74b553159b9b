package org.lifetimecircle.secrets.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SealedBoxTest {

    private static final byte[] PLAINTEXT = "a data key, say".getBytes(StandardCharsets.UTF_8);
    private static final byte[] AAD = "env=prod;name=DB_PASSWORD;version=3".getBytes(StandardCharsets.UTF_8);

    private final MasterKey kek = randomKey();
    private final MasterKey otherKek = randomKey();

    @AfterEach
    void closeKeys() {
        kek.close();
        otherKek.close();
    }

    // ---- happy path --------------------------------------------------------------------------------

    @Test
    void sealThenOpenGivesThePlaintextBack() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);

        assertThat(SealedBox.open(kek, sealed, AAD)).isEqualTo(PLAINTEXT);
    }

    @Test
    void emptyPlaintextAndEmptyAssociatedDataRoundTrip() {
        byte[] sealed = SealedBox.seal(kek, new byte[0], new byte[0]);

        assertThat(SealedBox.open(kek, sealed, new byte[0])).isEmpty();
    }

    @Test
    void largePlaintextRoundTrips() {
        byte[] large = new byte[1 << 20];
        Randoms.strong().nextBytes(large);

        assertThat(SealedBox.open(kek, SealedBox.seal(kek, large, AAD), AAD)).isEqualTo(large);
    }

    @Test
    void sealedBoxHasTheDocumentedLayout() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);
        byte[] keyId = kek.keyId().getBytes(StandardCharsets.US_ASCII);

        assertThat(sealed[0]).isEqualTo((byte) 0x01);
        assertThat(sealed[1] & 0xff).isEqualTo(keyId.length);
        assertThat(Arrays.copyOfRange(sealed, 2, 2 + keyId.length)).isEqualTo(keyId);
        assertThat(sealed).hasSize(2 + keyId.length + 12 + PLAINTEXT.length + 16);
    }

    @Test
    void jdkAesGcmOpensTheBoxWithTheHeaderAsPartOfTheAssociatedData() throws Exception {
        // Pins the format to standard AES-256-GCM, independently of Bouncy Castle.
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);
        int headerLength = 2 + (sealed[1] & 0xff);
        byte[] keyBytes = kek.copyBytes();
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(keyBytes, "AES"),
                new GCMParameterSpec(128, sealed, headerLength, 12));
        Arrays.fill(keyBytes, (byte) 0);
        cipher.updateAAD(sealed, 0, headerLength);
        cipher.updateAAD(AAD);

        byte[] plaintext = cipher.doFinal(sealed, headerLength + 12, sealed.length - headerLength - 12);

        assertThat(plaintext).isEqualTo(PLAINTEXT);
    }

    @Test
    void twoSealsOfTheSamePlaintextDifferBecauseEachHasAFreshNonce() {
        byte[] first = SealedBox.seal(kek, PLAINTEXT, AAD);
        byte[] second = SealedBox.seal(kek, PLAINTEXT, AAD);
        int nonceOffset = 2 + kek.keyId().length();

        assertThat(first).isNotEqualTo(second);
        assertThat(Arrays.copyOfRange(first, nonceOffset, nonceOffset + 12))
                .isNotEqualTo(Arrays.copyOfRange(second, nonceOffset, nonceOffset + 12));
    }

    @Test
    void keyIdOfReturnsTheIdOfTheSealingKey() {
        assertThat(SealedBox.keyIdOf(SealedBox.seal(kek, PLAINTEXT, AAD))).isEqualTo(kek.keyId());
        assertThat(SealedBox.keyIdOf(SealedBox.seal(otherKek, PLAINTEXT, AAD))).isEqualTo(otherKek.keyId());
    }

    @Test
    void openDoesNotChangeTheBoxOrTheAssociatedData() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);
        byte[] sealedBefore = sealed.clone();
        byte[] aadBefore = AAD.clone();

        SealedBox.open(kek, sealed, AAD);

        assertThat(sealed).isEqualTo(sealedBefore);
        assertThat(AAD).isEqualTo(aadBefore);
    }

    // ---- every failure looks the same ------------------------------------------------------------------

    @Test
    void openWithOtherAssociatedDataFails() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);
        byte[] otherAad = "env=prod;name=DB_PASSWORD;version=4".getBytes(StandardCharsets.UTF_8);

        assertDecryptionFails(() -> SealedBox.open(kek, sealed, otherAad));
        assertDecryptionFails(() -> SealedBox.open(kek, sealed, new byte[0]));
    }

    @Test
    void openWithAnotherMasterKeyFails() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);

        assertDecryptionFails(() -> SealedBox.open(otherKek, sealed, AAD));
    }

    @Test
    void openWithAnotherMasterKeyFailsEvenWhenTheKeyIdIsForgedToMatch() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);
        byte[] otherId = otherKek.keyId().getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(otherId, 0, sealed, 2, otherId.length); // same length: "mk-" + 16 hex

        assertThat(SealedBox.keyIdOf(sealed)).isEqualTo(otherKek.keyId());
        assertDecryptionFails(() -> SealedBox.open(otherKek, sealed, AAD));
        assertDecryptionFails(() -> SealedBox.open(kek, sealed, AAD));
    }

    @Test
    void openFailsWhenAnySingleBitIsFlipped() {
        byte[] sealed = SealedBox.seal(kek, "tiny".getBytes(StandardCharsets.UTF_8), AAD);

        for (int position = 0; position < sealed.length; position++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] tampered = sealed.clone();
                tampered[position] ^= (byte) (1 << bit);
                assertDecryptionFails(() -> SealedBox.open(kek, tampered, AAD));
            }
        }
    }

    @Test
    void openFailsWhenTruncatedToAnyLength() {
        byte[] sealed = SealedBox.seal(kek, "tiny".getBytes(StandardCharsets.UTF_8), AAD);

        for (int length = 0; length < sealed.length; length++) {
            byte[] truncated = Arrays.copyOf(sealed, length);
            assertDecryptionFails(() -> SealedBox.open(kek, truncated, AAD));
        }
    }

    @Test
    void openFailsWhenBytesAreAppended() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);

        assertDecryptionFails(() -> SealedBox.open(kek, Arrays.copyOf(sealed, sealed.length + 1), AAD));
    }

    @ParameterizedTest
    @ValueSource(ints = {0x00, 0x02, 0x7f, 0x80, 0xff})
    void openAndKeyIdOfFailForAnUnknownVersion(int version) {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);
        sealed[0] = (byte) version;

        assertDecryptionFails(() -> SealedBox.open(kek, sealed, AAD));
        assertDecryptionFails(() -> SealedBox.keyIdOf(sealed));
    }

    @Test
    void openAndKeyIdOfFailForEmptyInput() {
        assertDecryptionFails(() -> SealedBox.open(kek, new byte[0], AAD));
        assertDecryptionFails(() -> SealedBox.keyIdOf(new byte[0]));
    }

    @Test
    void keyIdOfFailsForMalformedHeaders() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);
        byte[] zeroLengthId = sealed.clone();
        zeroLengthId[1] = 0;
        byte[] idLongerThanBox = sealed.clone();
        idLongerThanBox[1] = (byte) 0xff;
        byte[] nonAsciiId = sealed.clone();
        nonAsciiId[2] = (byte) 0xc3;

        assertDecryptionFails(() -> SealedBox.keyIdOf(zeroLengthId));
        assertDecryptionFails(() -> SealedBox.keyIdOf(idLongerThanBox));
        assertDecryptionFails(() -> SealedBox.keyIdOf(nonAsciiId));
        assertDecryptionFails(() -> SealedBox.keyIdOf(Arrays.copyOf(sealed, 2 + kek.keyId().length() + 12 + 15)));
    }

    @Test
    void allFailuresCarryTheSameMessageAndNoCause() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);
        byte[] badVersion = sealed.clone();
        badVersion[0] = 9;
        byte[] badTag = sealed.clone();
        badTag[sealed.length - 1] ^= 1;

        DecryptionFailedException[] failures = {
            failure(() -> SealedBox.open(kek, sealed, new byte[] {1})),
            failure(() -> SealedBox.open(otherKek, sealed, AAD)),
            failure(() -> SealedBox.open(kek, badVersion, AAD)),
            failure(() -> SealedBox.open(kek, badTag, AAD)),
            failure(() -> SealedBox.open(kek, Arrays.copyOf(sealed, 5), AAD)),
            failure(() -> SealedBox.open(kek, new byte[0], AAD)),
        };

        for (DecryptionFailedException e : failures) {
            assertThat(e).hasMessage("decryption failed").hasNoCause();
            assertThat(e.getSuppressed()).isEmpty();
        }
    }

    // ---- misuse ----------------------------------------------------------------------------------------

    @Test
    void nullArgumentsAreProgrammingErrorsNotDecryptionFailures() {
        byte[] sealed = SealedBox.seal(kek, PLAINTEXT, AAD);

        assertThatThrownBy(() -> SealedBox.seal(kek, PLAINTEXT, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> SealedBox.seal(kek, null, AAD)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> SealedBox.open(kek, sealed, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> SealedBox.open(kek, null, AAD)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void aClosedMasterKeyCannotSealOrOpen() {
        MasterKey closed = randomKey();
        byte[] sealed = SealedBox.seal(closed, PLAINTEXT, AAD);
        closed.close();

        assertThatThrownBy(() -> SealedBox.seal(closed, PLAINTEXT, AAD)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> SealedBox.open(closed, sealed, AAD)).isInstanceOf(IllegalStateException.class);
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    static MasterKey randomKey() {
        byte[] bytes = new byte[32];
        Randoms.strong().nextBytes(bytes);
        try {
            return new MasterKey(bytes);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    static void assertDecryptionFails(ThrowingCallable call) {
        assertThat(failure(call)).hasMessage(DecryptionFailedException.MESSAGE).hasNoCause();
    }

    private static DecryptionFailedException failure(ThrowingCallable call) {
        DecryptionFailedException e = catchThrowableOfType(DecryptionFailedException.class, call);
        assertThat(e).as("expected DecryptionFailedException").isNotNull();
        return e;
    }
}
