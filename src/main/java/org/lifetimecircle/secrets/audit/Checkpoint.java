package org.lifetimecircle.secrets.audit;

import java.nio.charset.StandardCharsets;

/**
 * A signed statement of the chain head. {@code message} is the exact UTF-8 text that was signed, so
 * {@code openssl pkeyutl -verify -rawin} checks it; {@code signature} is base64 of 64 bytes.
 */
public record Checkpoint(long seq, String hash, String signedAt, String message, String signature,
                         String publicKeyPem) {

    /** The signed text of the contract. */
    public static String message(long seq, String hash, String signedAt) {
        return "ltc-secrets audit checkpoint v1\nseq=" + seq + "\nhash=" + hash + "\nsignedAt=" + signedAt + "\n";
    }

    byte[] messageBytes() {
        return message.getBytes(StandardCharsets.UTF_8);
    }
}
