package org.lifetimecircle.secrets.audit;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the live chain starts after an archive: the last archived event ({@code seq}, {@code hash}),
 * the first one ({@code firstSeq}), the archive file and its SHA-256, signed with the audit key.
 * {@code message} is the exact UTF-8 text that was signed, so {@code openssl pkeyutl -verify -rawin}
 * checks it as it checks a checkpoint; {@code signature} is base64 of 64 bytes.
 */
public record ArchiveAnchor(long firstSeq, long seq, String hash, String file, String sha256, String signedAt,
                            String message, String signature, String publicKeyPem) {

    /** Archive file names: {@code audit-<firstSeq>-<lastSeq>.jsonl}, seqs zero-padded so names sort. */
    static final Pattern FILE = Pattern.compile("audit-(\\d{12,16})-(\\d{12,16})\\.jsonl");

    /** The signed text. */
    public static String message(long firstSeq, long seq, String hash, String file, String sha256, String signedAt) {
        return "ltc-secrets audit anchor v1\nfirstSeq=" + firstSeq + "\nseq=" + seq + "\nhash=" + hash + "\nfile=" + file
                + "\nsha256=" + sha256 + "\nsignedAt=" + signedAt + "\n";
    }

    /** The archive file name of a range. */
    static String fileName(long firstSeq, long lastSeq) {
        return String.format("audit-%012d-%012d.jsonl", firstSeq, lastSeq);
    }

    /** The first and last seq a file name covers, or null if it is not an archive file name. */
    static long[] range(String fileName) {
        Matcher m = FILE.matcher(fileName);
        return m.matches() ? new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))} : null;
    }
}
