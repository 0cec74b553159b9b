package org.lifetimecircle.secrets.crypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;

/**
 * The Ed25519 key that signs audit checkpoints. The private key leaves this class only sealed under
 * the master key; {@link #close()} erases it.
 */
public final class AuditSigner implements AutoCloseable {

    /** Length of a raw Ed25519 public key. */
    public static final int PUBLIC_KEY_LENGTH = Ed25519PublicKeyParameters.KEY_SIZE;
    /** Length of an Ed25519 signature. */
    public static final int SIGNATURE_LENGTH = Ed25519PrivateKeyParameters.SIGNATURE_SIZE;

    private static final int PRIVATE_KEY_LENGTH = Ed25519PrivateKeyParameters.KEY_SIZE;
    // The payload format is versioned by this label: a v2 payload gets a v2 label.
    private static final byte[] SEAL_AAD = "ltc-secrets:audit-signing-key:v1".getBytes(StandardCharsets.UTF_8);

    // Our own copy of the RFC 8032 private key (the 32-byte seed). BC's Ed25519PrivateKeyParameters
    // keeps its copy in a private final array that nothing can erase, so one is made per signature and
    // dropped right after, instead of being held for the life of the signer.
    private final byte[] privateKey;
    private final byte[] publicKey;
    private boolean closed;

    private AuditSigner(byte[] privateKey) {
        if (privateKey.length != PRIVATE_KEY_LENGTH) {
            throw new IllegalArgumentException("an Ed25519 private key is " + PRIVATE_KEY_LENGTH + " bytes");
        }
        this.privateKey = privateKey.clone();
        this.publicKey = new Ed25519PrivateKeyParameters(this.privateKey).generatePublicKey().getEncoded();
    }

    /** A new random key pair. */
    public static AuditSigner generate() {
        Ed25519KeyPairGenerator generator = new Ed25519KeyPairGenerator();
        generator.init(new Ed25519KeyGenerationParameters(Randoms.strong()));
        AsymmetricCipherKeyPair pair = generator.generateKeyPair();
        byte[] seed = ((Ed25519PrivateKeyParameters) pair.getPrivate()).getEncoded();
        try {
            return new AuditSigner(seed);
        } finally {
            Arrays.fill(seed, (byte) 0);
        }
    }

    /** Test hook: a signer for a known private key (e.g. an RFC 8032 test vector). Copies the key. */
    static AuditSigner ofPrivateKey(byte[] privateKey) {
        return new AuditSigner(Objects.requireNonNull(privateKey, "privateKey"));
    }

    /** The private key sealed under kek, for storage; {@link #unseal} restores it. */
    public byte[] seal(MasterKey kek) {
        byte[] copy = copyPrivateKey();
        try {
            return SealedBox.seal(kek, copy, SEAL_AAD);
        } finally {
            Arrays.fill(copy, (byte) 0);
        }
    }

    /** Restores a signer from {@link #seal}; fails for another kek, another kind of sealed key, or tampering. */
    public static AuditSigner unseal(MasterKey kek, byte[] sealed) throws DecryptionFailedException {
        byte[] opened = SealedBox.open(kek, sealed, SEAL_AAD);
        try {
            if (opened.length != PRIVATE_KEY_LENGTH) {
                throw new DecryptionFailedException(); // authentic, but not a payload we wrote
            }
            return new AuditSigner(opened);
        } finally {
            Arrays.fill(opened, (byte) 0);
        }
    }

    /** A 64-byte pure Ed25519 (RFC 8032) signature of message; deterministic for a given key and message. */
    public byte[] sign(byte[] message) {
        Objects.requireNonNull(message, "message");
        Ed25519PrivateKeyParameters key;
        synchronized (this) {
            checkOpen();
            key = new Ed25519PrivateKeyParameters(privateKey); // copies, so close() cannot race the signing
        }
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    /** The raw 32-byte public key; not secret, so still available after {@link #close()}. */
    public byte[] publicKeyRaw() {
        return publicKey.clone();
    }

    /** The public key as a PEM SubjectPublicKeyInfo, readable by OpenSSL and the JDK's X509EncodedKeySpec. */
    public String publicKeyPem() {
        byte[] der;
        try {
            der = SubjectPublicKeyInfoFactory
                    .createSubjectPublicKeyInfo(new Ed25519PublicKeyParameters(publicKey))
                    .getEncoded(ASN1Encoding.DER);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode an Ed25519 public key", e); // in-memory, cannot happen
        }
        String base64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN PUBLIC KEY-----\n" + base64 + "\n-----END PUBLIC KEY-----\n";
    }

    /**
     * Whether signature is a valid pure Ed25519 signature of message under publicKeyRaw. Malformed
     * input (wrong lengths, a public key that is not a curve point) is simply not valid: false.
     */
    public static boolean verify(byte[] publicKeyRaw, byte[] message, byte[] signature) {
        Objects.requireNonNull(publicKeyRaw, "publicKeyRaw");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(signature, "signature");
        if (publicKeyRaw.length != PUBLIC_KEY_LENGTH || signature.length != SIGNATURE_LENGTH) {
            return false;
        }
        Ed25519PublicKeyParameters key;
        try {
            key = new Ed25519PublicKeyParameters(publicKeyRaw);
        } catch (IllegalArgumentException e) {
            return false;
        }
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, key);
        verifier.update(message, 0, message.length);
        return verifier.verifySignature(signature);
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /** Overwrites the private key; idempotent. Signing and sealing then fail. */
    @Override
    public synchronized void close() {
        Arrays.fill(privateKey, (byte) 0);
        closed = true;
    }

    @Override
    public String toString() {
        return "AuditSigner[Ed25519, redacted]";
    }

    private synchronized byte[] copyPrivateKey() {
        checkOpen();
        return privateKey.clone();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the audit signing key has been closed");
        }
    }
}
