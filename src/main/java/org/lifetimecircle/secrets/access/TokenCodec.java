package org.lifetimecircle.secrets.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.lifetimecircle.secrets.crypto.Randoms;

/**
 * Makes and checks API tokens of the form {@code ltcs_<id>_<secret>}: a recognisable prefix (so
 * secret scanners find leaked ones), a public 64-bit id to look the row up by, and 256 random bits.
 * Only SHA-256 of the whole token is stored; a fast hash is enough because the input has 256 bits
 * of entropy, and the id lookup means the secret part is only ever compared in constant time.
 */
final class TokenCodec {

    static final String PREFIX = "ltcs_";
    private static final Pattern FORMAT = Pattern.compile("ltcs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})");

    private TokenCodec() {
    }

    /** A freshly generated token; {@code token} is shown to the caller once and then dropped. */
    record Minted(String id, String token, byte[] hash) {
        @Override
        public String toString() {
            return "Minted[id=" + id + ", token=<redacted>]";
        }
    }

    static Minted mint() {
        byte[] idBytes = new byte[8];
        byte[] secret = new byte[32];
        Randoms.strong().nextBytes(idBytes);
        Randoms.strong().nextBytes(secret);
        String id = HexFormat.of().formatHex(idBytes);
        String token = PREFIX + id + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        java.util.Arrays.fill(secret, (byte) 0);
        return new Minted(id, token, hash(token));
    }

    /** The token id, if the presented string has the token format at all. */
    static Optional<String> idOf(String presented) {
        Matcher m = FORMAT.matcher(presented);
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** Constant-time comparison of a presented token with a stored hash. */
    static boolean matches(String presented, byte[] storedHash) {
        return MessageDigest.isEqual(hash(presented), storedHash);
    }

    static byte[] hash(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
    }
}
