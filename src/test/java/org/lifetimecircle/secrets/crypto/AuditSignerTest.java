package org.lifetimecircle.secrets.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lifetimecircle.secrets.crypto.SealedBoxTest.assertDecryptionFails;
import static org.lifetimecircle.secrets.crypto.SealedBoxTest.randomKey;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditSignerTest {

    private static final byte[] MESSAGE =
            "checkpoint 42: sha256=5f1e...; events 1..4096".getBytes(StandardCharsets.UTF_8);
    private static final String SEAL_AAD = "ltc-secrets:audit-signing-key:v1";

    private final MasterKey kek = randomKey();
    private final AuditSigner signer = AuditSigner.generate();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        signer.close();
        kek.close();
    }

    // ---- signing ---------------------------------------------------------------------------------------

    @Test
    void signatureVerifiesUnderThePublicKey() {
        byte[] signature = signer.sign(MESSAGE);

        assertThat(signature).hasSize(64);
        assertThat(signer.publicKeyRaw()).hasSize(32);
        assertThat(AuditSigner.verify(signer.publicKeyRaw(), MESSAGE, signature)).isTrue();
    }

    @Test
    void emptyMessageCanBeSignedAndVerified() {
        assertThat(AuditSigner.verify(signer.publicKeyRaw(), new byte[0], signer.sign(new byte[0]))).isTrue();
    }

    @Test
    void verifyFailsForAnotherMessage() {
        byte[] signature = signer.sign(MESSAGE);
        byte[] other = MESSAGE.clone();
        other[other.length - 1] ^= 1;

        assertThat(AuditSigner.verify(signer.publicKeyRaw(), other, signature)).isFalse();
    }

    @Test
    void verifyFailsUnderAnotherKey() {
        try (AuditSigner other = AuditSigner.generate()) {
            assertThat(AuditSigner.verify(other.publicKeyRaw(), MESSAGE, signer.sign(MESSAGE))).isFalse();
        }
    }

    @Test
    void verifyFailsWhenAnySignatureBitIsFlipped() {
        byte[] signature = signer.sign(MESSAGE);

        for (int position = 0; position < signature.length; position++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] tampered = signature.clone();
                tampered[position] ^= (byte) (1 << bit);
                assertThat(AuditSigner.verify(signer.publicKeyRaw(), MESSAGE, tampered))
                        .as("byte %d bit %d", position, bit).isFalse();
            }
        }
    }

    @Test
    void verifyIsFalseRatherThanAnExceptionForMalformedInput() {
        byte[] signature = signer.sign(MESSAGE);
        byte[] notACurvePoint = new byte[32];
        Arrays.fill(notACurvePoint, (byte) 0xff); // y >= p: not a canonical encoding

        assertThat(AuditSigner.verify(new byte[31], MESSAGE, signature)).isFalse();
        assertThat(AuditSigner.verify(signer.publicKeyRaw(), MESSAGE, new byte[63])).isFalse();
        assertThat(AuditSigner.verify(signer.publicKeyRaw(), MESSAGE, new byte[0])).isFalse();
        assertThat(AuditSigner.verify(notACurvePoint, MESSAGE, signature)).isFalse();
    }

    @Test
    void signaturesMatchTheRfc8032TestVector() {
        // RFC 8032, section 7.1, TEST 2.
        HexFormat hex = HexFormat.of();
        byte[] secretKey = hex.parseHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
        byte[] publicKey = hex.parseHex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
        byte[] message = hex.parseHex("72");
        byte[] expected = hex.parseHex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");

        try (AuditSigner known = AuditSigner.ofPrivateKey(secretKey)) {
            assertThat(known.publicKeyRaw()).isEqualTo(publicKey);
            assertThat(known.sign(message)).isEqualTo(expected);
        }
        assertThat(AuditSigner.verify(publicKey, message, expected)).isTrue();
    }

    // ---- sealing ---------------------------------------------------------------------------------------

    @Test
    void unsealedSignerHasTheSamePublicKeyAndItsSignaturesVerify() {
        byte[] sealed = signer.seal(kek);

        try (AuditSigner restored = AuditSigner.unseal(kek, sealed)) {
            assertThat(restored.publicKeyRaw()).isEqualTo(signer.publicKeyRaw());
            assertThat(AuditSigner.verify(signer.publicKeyRaw(), MESSAGE, restored.sign(MESSAGE))).isTrue();
            // Ed25519 is deterministic: the same key signs the same message identically.
            assertThat(restored.sign(MESSAGE)).isEqualTo(signer.sign(MESSAGE));
        }
    }

    @Test
    void sealedKeyNamesTheMasterKeyAndDoesNotContainThePrivateKeyInClear() throws Exception {
        byte[] sealed = signer.seal(kek);

        assertThat(SealedBox.keyIdOf(sealed)).isEqualTo(kek.keyId());
        assertThat(HexFormat.of().formatHex(sealed)).doesNotContain(HexFormat.of().formatHex(privateKeyOf(signer)));
    }

    @Test
    void unsealFailsUnderAnotherMasterKeyOrWhenTampered() {
        byte[] sealed = signer.seal(kek);
        byte[] tampered = sealed.clone();
        tampered[tampered.length - 20] ^= 1;

        try (MasterKey other = randomKey()) {
            assertDecryptionFails(() -> AuditSigner.unseal(other, sealed));
        }
        assertDecryptionFails(() -> AuditSigner.unseal(kek, tampered));
    }

    @Test
    void aSealedFingerprintKeyIsNotAcceptedAsASigningKey() {
        try (Fingerprinter fingerprinter = Fingerprinter.generate()) {
            byte[] sealedFingerprintKey = fingerprinter.seal(kek); // also 32 bytes, but another label

            assertDecryptionFails(() -> AuditSigner.unseal(kek, sealedFingerprintKey));
        }
    }

    @Test
    void unsealRefusesAnAuthenticBoxOfTheWrongLength() {
        byte[] sealed = SealedBox.seal(kek, new byte[31], SEAL_AAD.getBytes(StandardCharsets.UTF_8));

        assertDecryptionFails(() -> AuditSigner.unseal(kek, sealed));
    }

    // ---- public key formats and interoperability ----------------------------------------------------------

    @Test
    void pemIsASubjectPublicKeyInfoTheJdkParsesAndWhoseSignaturesItVerifies() throws Exception {
        String pem = signer.publicKeyPem();
        byte[] signature = signer.sign(MESSAGE);

        assertThat(pem).startsWith("-----BEGIN PUBLIC KEY-----\n").endsWith("\n-----END PUBLIC KEY-----\n");
        PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(derOf(pem)));
        Signature jdk = Signature.getInstance("Ed25519");
        jdk.initVerify(key);
        jdk.update(MESSAGE);
        assertThat(jdk.verify(signature)).isTrue();

        jdk.initVerify(key);
        jdk.update("another message".getBytes(StandardCharsets.UTF_8));
        assertThat(jdk.verify(signature)).isFalse();
    }

    @Test
    void pemEndsInTheRawPublicKeyAndWrapsBase64At64Characters() {
        String pem = signer.publicKeyPem();
        byte[] der = derOf(pem);

        // An Ed25519 SubjectPublicKeyInfo is a fixed 12-byte prefix and the 32 raw bytes.
        assertThat(der).hasSize(44);
        assertThat(HexFormat.of().formatHex(der, 0, 12)).isEqualTo("302a300506032b6570032100");
        assertThat(Arrays.copyOfRange(der, 12, 44)).isEqualTo(signer.publicKeyRaw());
        for (String line : pem.split("\n")) {
            assertThat(line.length()).isLessThanOrEqualTo(64);
        }
    }

    @Test
    void opensslVerifiesOurSignatureAndRejectsATamperedMessage() throws Exception {
        Path message = Files.write(dir.resolve("message.txt"), MESSAGE);
        Files.write(dir.resolve("sig.bin"), signer.sign(MESSAGE));
        Files.writeString(dir.resolve("pub.pem"), signer.publicKeyPem(), StandardCharsets.US_ASCII);

        OpensslResult good = opensslVerify();
        assertThat(good.exitCode()).as("openssl output: %s", good.output()).isZero();
        assertThat(good.output()).contains("Signature Verified Successfully");

        byte[] tampered = MESSAGE.clone();
        tampered[0] ^= 1;
        Files.write(message, tampered);
        OpensslResult bad = opensslVerify();
        assertThat(bad.exitCode()).as("openssl output: %s", bad.output()).isNotZero();
        assertThat(bad.output()).doesNotContain("Signature Verified Successfully");
    }

    // ---- lifecycle -------------------------------------------------------------------------------------

    @Test
    void closeErasesThePrivateKeyAndStopsSigningAndSealing() throws Exception {
        AuditSigner closing = AuditSigner.generate();
        byte[] publicKey = closing.publicKeyRaw();

        closing.close();
        closing.close(); // idempotent

        assertThat(closing.isClosed()).isTrue();
        assertThat(privateKeyOf(closing)).containsOnly(0);
        assertThatThrownBy(() -> closing.sign(MESSAGE)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> closing.seal(kek)).isInstanceOf(IllegalStateException.class);
        assertThat(closing.publicKeyRaw()).isEqualTo(publicKey); // public, so still available
    }

    @Test
    void toStringContainsNoKeyMaterial() throws Exception {
        String text = signer.toString();
        HexFormat hex = HexFormat.of();
        Base64.Encoder base64 = Base64.getEncoder();
        byte[] privateKey = privateKeyOf(signer);

        assertThat(text).contains("redacted")
                .doesNotContain(hex.formatHex(privateKey), base64.encodeToString(privateKey))
                .doesNotContain(hex.formatHex(signer.publicKeyRaw()), base64.encodeToString(signer.publicKeyRaw()));
    }

    @Test
    void publicKeyRawReturnsACopy() {
        byte[] publicKey = signer.publicKeyRaw();
        publicKey[0] ^= 1;

        assertThat(signer.publicKeyRaw()).isNotEqualTo(publicKey);
    }

    @Test
    void generatedKeysDiffer() {
        try (AuditSigner other = AuditSigner.generate()) {
            assertThat(other.publicKeyRaw()).isNotEqualTo(signer.publicKeyRaw());
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    private static byte[] derOf(String pem) {
        String body = pem.replace("-----BEGIN PUBLIC KEY-----", "").replace("-----END PUBLIC KEY-----", "")
                .replace("\n", "");
        return Base64.getDecoder().decode(body);
    }

    /** The signer's private key bytes, read by reflection: the class itself offers no way to get them. */
    private static byte[] privateKeyOf(AuditSigner signer) throws ReflectiveOperationException {
        Field field = AuditSigner.class.getDeclaredField("privateKey");
        field.setAccessible(true);
        return ((byte[]) field.get(signer)).clone();
    }

    private record OpensslResult(int exitCode, String output) {
    }

    private OpensslResult opensslVerify() throws IOException, InterruptedException {
        Path output = dir.resolve("openssl.out");
        Process process = new ProcessBuilder(List.of("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem",
                "-rawin", "-in", "message.txt", "-sigfile", "sig.bin"))
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile()) // a file, not a pipe: nothing can block on a full buffer
                .start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("openssl did not finish within 30 s");
        }
        return new OpensslResult(process.exitValue(), Files.readString(output));
    }
}
