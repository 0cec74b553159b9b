package org.lifetimecircle.secrets.audit;

/**
 * Where the live chain starts after an archive: the last archived event ({@code seq}, {@code hash}),
 * the first one ({@code firstSeq}), the archive file and its SHA-256, signed with the audit key.
 * {@code message} is the exact UTF-8 text that was signed, so {@code openssl pkeyutl -verify -rawin}
 * checks it as it checks a checkpoint; {@code signature} is base64 of 64 bytes.
 */
public record ArchiveAnchor(long firstSeq, long seq, String hash, String file, String sha256, String signedAt,
                            String message, String signature, String publicKeyPem) {

    /** The signed text. */
    public static String message(long firstSeq, long seq, String hash, String file, String sha256, String signedAt) {
        return "ltc-secrets audit anchor v1\nfirstSeq=" + firstSeq + "\nseq=" + seq + "\nhash=" + hash + "\nfile=" + file
                + "\nsha256=" + sha256 + "\nsignedAt=" + signedAt + "\n";
    }

    /** The archive file name of a range: seqs zero-padded so names sort. */
    static String fileName(long firstSeq, long lastSeq) {
        return String.format("audit-%012d-%012d.jsonl", firstSeq, lastSeq);
    }
}
