package org.lifetimecircle.secrets.envfile;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.TreeSet;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.secret.ErasableChars;
import org.lifetimecircle.secrets.secret.SecretValues;

/**
 * Renders an environment's env file: one header comment naming the environment, the secret versions and
 * their promotion time, then {@code NAME=value} lines sorted by name, as UTF-8. Pure: the same policy and
 * versions always give the same bytes, so a file on disk can be compared with what should be there.
 *
 * <p>The file reads the same under systemd {@code EnvironmentFile=}, bash ({@code set -a; . file}) and
 * python-dotenv. A value made only of {@link #UNQUOTED_SAFE} characters is written bare; any other value is
 * single-quoted. Single quotes are literal in all three except that python-dotenv decodes {@code \\} and
 * {@code \'} and expands {@code ${...}} inside them, so the policy refuses {@code '}, {@code \} and
 * {@code $} in static values (policy {@code Rules.variableValueProblem}); generated secrets are always bare.
 */
public final class EnvFileRenderer {

    /** How every file this service writes begins; a file without it was not written by us. */
    static final String HEADER_PREFIX = "# ltc-secrets env file: ";

    /**
     * No word splitting, globbing, tilde, expansion, comment, quote or escape meaning in bash, python-dotenv
     * or systemd (the classic shell-safe set). Covers every secret alphabet: base64url, hex, alphanumeric.
     */
    static final String UNQUOTED_SAFE =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-";

    private static final byte[] HEADER_PREFIX_BYTES = HEADER_PREFIX.getBytes(StandardCharsets.US_ASCII);

    private EnvFileRenderer() {
    }

    /**
     * The env file for {@code policy} with these secret values: one entry per secret of the policy, no more.
     * The caller owns the returned array, which holds secrets: erase it ({@code Arrays.fill}) after use.
     * Rendering consumes the values: every {@link ErasableChars} among them is erased once its characters are
     * in the file's bytes, whether or not the rendering succeeds (a map of values is rendered once).
     *
     * @throws IllegalArgumentException if secrets are missing or extra, or a secret value is empty or has a
     *     character outside {@link #UNQUOTED_SAFE}; the message names secrets, never values
     */
    public static byte[] render(EnvironmentPolicy policy, Map<String, SecretValues> secrets) {
        try {
            return renderValues(policy, secrets);
        } finally {
            secrets.values().forEach(SecretValues::erase);
        }
    }

    private static byte[] renderValues(EnvironmentPolicy policy, Map<String, SecretValues> secrets) {
        checkSameSecrets(policy.secrets().keySet(), secrets.keySet());
        SortedMap<String, CharSequence> lines = new TreeMap<>(policy.variables());
        for (SecretPolicy secret : policy.secrets().values()) {
            SecretValues values = secrets.get(secret.name());
            lines.put(secret.name(), checkedSecret(secret.name(), values.current()));
            if (secret.exportPreviousAs().isPresent() && values.previous().isPresent()) {
                lines.put(secret.exportPreviousAs().get(), checkedSecret(secret.name(), values.previous().get()));
            }
        }
        ErasableBytes out = new ErasableBytes(256);
        out.appendAscii(header(policy.environment(), new TreeMap<>(secrets)));
        for (Map.Entry<String, CharSequence> line : lines.entrySet()) {
            out.appendAscii(line.getKey()).appendAscii("=");
            appendValue(out, line.getKey(), line.getValue());
            out.appendAscii("\n");
        }
        return out.toByteArrayAndErase();
    }

    /** True if {@code fileStart} (the first line, or more of the file) begins with the header this service writes. */
    public static boolean writtenByUs(byte[] fileStart) {
        return fileStart != null && fileStart.length >= HEADER_PREFIX_BYTES.length
                && Arrays.equals(fileStart, 0, HEADER_PREFIX_BYTES.length, HEADER_PREFIX_BYTES, 0,
                        HEADER_PREFIX_BYTES.length);
    }

    /** Lower-case hex SHA-256, as served in the env file's ETag and the write result. */
    public static String sha256Hex(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /**
     * E.g. {@code # ltc-secrets env file: environment=prod version=LTC_SECRET_KEY:3
     * promotedAt=2026-03-06T09:00:00Z - written by ltc-secrets; do not edit}. With several secrets each is
     * listed as {@code NAME:version}, comma-separated, and the time is the latest promotion among them.
     * ASCII only, and it must not end in a backslash: systemd before v254 continued such a comment line.
     */
    static String header(String environment, SortedMap<String, SecretValues> secrets) {
        StringJoiner versions = new StringJoiner(",");
        Instant latest = Instant.MIN;
        for (Map.Entry<String, SecretValues> s : secrets.entrySet()) {
            versions.add(s.getKey() + ":" + s.getValue().version());
            latest = s.getValue().promotedAt().isAfter(latest) ? s.getValue().promotedAt() : latest;
        }
        // Whole seconds: a stored time that lost precision on its way through the DB still renders the same.
        return HEADER_PREFIX + "environment=" + environment + " version=" + versions + " promotedAt="
                + latest.truncatedTo(ChronoUnit.SECONDS) + " - written by ltc-secrets; do not edit\n";
    }

    private static void appendValue(ErasableBytes out, String name, CharSequence value) {
        if (isUnquotedSafe(value)) {
            out.append(value);
            return;
        }
        // The policy has refused these already; checked again so a looser rule can never produce a file
        // that reads differently in one of the three readers.
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\'' || c == '\\' || c == '$' || Character.isISOControl(c)) {
                throw new IllegalArgumentException(name + ": value cannot be written to an env file");
            }
        }
        out.appendAscii("'").append(value).appendAscii("'");
    }

    static boolean isUnquotedSafe(CharSequence value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c >= SAFE_ASCII.length || !SAFE_ASCII[c]) {
                return false;
            }
        }
        return true;
    }

    // UNQUOTED_SAFE as a lookup table: every fetch checks each character of every value twice.
    private static final boolean[] SAFE_ASCII = new boolean[128];

    static {
        UNQUOTED_SAFE.chars().forEach(c -> SAFE_ASCII[c] = true);
    }

    private static CharSequence checkedSecret(String name, CharSequence value) {
        if (value.length() == 0 || !isUnquotedSafe(value)) {
            throw new IllegalArgumentException("secrets." + name
                    + ": value is empty or has characters outside [A-Za-z0-9_@%+=:,./-]");
        }
        return value;
    }

    private static void checkSameSecrets(Set<String> expected, Set<String> given) {
        Set<String> missing = new TreeSet<>(expected);
        missing.removeAll(given);
        Set<String> extra = new TreeSet<>(given);
        extra.removeAll(expected);
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new IllegalArgumentException("secret values must match the policy: missing " + missing
                    + ", not in the policy " + extra);
        }
    }
}
