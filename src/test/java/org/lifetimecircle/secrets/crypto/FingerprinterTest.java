package org.lifetimecircle.secrets.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lifetimecircle.secrets.crypto.SealedBoxTest.assertDecryptionFails;
import static org.lifetimecircle.secrets.crypto.SealedBoxTest.randomKey;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FingerprinterTest {

    private static final byte[] VALUE = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);
    private static final String SEAL_AAD = "ltc-secrets:fingerprint-key:v1";

    private final MasterKey kek = randomKey();
    private final Fingerprinter fingerprinter = Fingerprinter.generate();

    @AfterEach
    void close() {
        fingerprinter.close();
        kek.close();
    }

    @Test
    void fingerprintIsHmacSha256PrefixAnd64LowercaseHexDigits() {
        assertThat(fingerprinter.fingerprint(VALUE)).matches("hmac-sha256:[0-9a-f]{64}");
        assertThat(fingerprinter.fingerprint(new byte[0])).matches("hmac-sha256:[0-9a-f]{64}");
    }

    @Test
    void fingerprintIsDeterministicForOneKey() {
        assertThat(fingerprinter.fingerprint(VALUE)).isEqualTo(fingerprinter.fingerprint(VALUE.clone()));
    }

    @Test
    void differentValuesHaveDifferentFingerprints() {
        assertThat(fingerprinter.fingerprint(VALUE))
                .isNotEqualTo(fingerprinter.fingerprint("correct horse battery staplf".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void fingerprintsDifferAcrossKeys() {
        try (Fingerprinter other = Fingerprinter.generate()) {
            assertThat(other.fingerprint(VALUE)).isNotEqualTo(fingerprinter.fingerprint(VALUE));
        }
    }

    @Test
    void fingerprintEqualsJdkHmacSha256UnderTheSameKey() throws Exception {
        byte[] key = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        Mac jdk = Mac.getInstance("HmacSHA256");
        jdk.init(new SecretKeySpec(key, "HmacSHA256"));

        try (Fingerprinter known = Fingerprinter.ofKey(key)) {
            for (byte[] value : List.of(VALUE, new byte[0], new byte[1000])) {
                String expected = "hmac-sha256:" + HexFormat.of().formatHex(jdk.doFinal(value));
                assertThat(known.fingerprint(value)).isEqualTo(expected);
            }
        }
    }

    @Test
    void ofKeyCopiesTheKeyAndRefusesOtherLengths() {
        byte[] key = new byte[32];
        try (Fingerprinter known = Fingerprinter.ofKey(key)) {
            String before = known.fingerprint(VALUE);
            key[0] = 1;
            assertThat(known.fingerprint(VALUE)).isEqualTo(before);
        }
        assertThatThrownBy(() -> Fingerprinter.ofKey(new byte[16])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Fingerprinter.ofKey(new byte[33])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unsealedFingerprinterGivesTheSameFingerprints() {
        byte[] sealed = fingerprinter.seal(kek);

        try (Fingerprinter restored = Fingerprinter.unseal(kek, sealed)) {
            assertThat(restored.fingerprint(VALUE)).isEqualTo(fingerprinter.fingerprint(VALUE));
        }
        assertThat(SealedBox.keyIdOf(sealed)).isEqualTo(kek.keyId());
    }

    @Test
    void unsealFailsUnderAnotherMasterKeyOrWhenTampered() {
        byte[] sealed = fingerprinter.seal(kek);
        byte[] tampered = sealed.clone();
        tampered[tampered.length - 1] ^= (byte) 0x80;

        try (MasterKey other = randomKey()) {
            assertDecryptionFails(() -> Fingerprinter.unseal(other, sealed));
        }
        assertDecryptionFails(() -> Fingerprinter.unseal(kek, tampered));
    }

    @Test
    void aSealedSigningKeyIsNotAcceptedAsAFingerprintKey() {
        try (AuditSigner signer = AuditSigner.generate()) {
            byte[] sealedSigningKey = signer.seal(kek); // also 32 bytes, but another label

            assertDecryptionFails(() -> Fingerprinter.unseal(kek, sealedSigningKey));
        }
    }

    @Test
    void unsealRefusesAnAuthenticBoxOfTheWrongLength() {
        byte[] sealed = SealedBox.seal(kek, new byte[16], SEAL_AAD.getBytes(StandardCharsets.UTF_8));

        assertDecryptionFails(() -> Fingerprinter.unseal(kek, sealed));
    }

    @Test
    void fingerprintIsThreadSafe() throws Exception {
        List<byte[]> values = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            byte[] value = ("value-" + i).getBytes(StandardCharsets.UTF_8);
            values.add(value);
            expected.add(fingerprinter.fingerprint(value));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Boolean>> tasks = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                tasks.add(() -> {
                    for (int round = 0; round < 50; round++) {
                        for (int i = 0; i < values.size(); i++) {
                            if (!fingerprinter.fingerprint(values.get(i)).equals(expected.get(i))) {
                                return false;
                            }
                        }
                    }
                    return true;
                });
            }
            for (Future<Boolean> result : pool.invokeAll(tasks, 60, TimeUnit.SECONDS)) {
                assertThat(result.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closeErasesTheKeyAndStopsFingerprintingAndSealing() throws Exception {
        Fingerprinter closing = Fingerprinter.generate();

        closing.close();
        closing.close(); // idempotent

        assertThat(closing.isClosed()).isTrue();
        assertThat(keyOf(closing)).containsOnly(0);
        assertThatThrownBy(() -> closing.fingerprint(VALUE)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> closing.seal(kek)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void toStringContainsNoKeyMaterial() throws Exception {
        byte[] key = keyOf(fingerprinter);

        assertThat(fingerprinter.toString()).contains("redacted")
                .doesNotContain(HexFormat.of().formatHex(key), Base64.getEncoder().encodeToString(key));
    }

    /** The key bytes, read by reflection: the class itself offers no way to get them. */
    private static byte[] keyOf(Fingerprinter fingerprinter) throws ReflectiveOperationException {
        Field field = Fingerprinter.class.getDeclaredField("key");
        field.setAccessible(true);
        return ((byte[]) field.get(fingerprinter)).clone();
    }
}
