package org.lifetimecircle.secrets.policy;

import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The policy rules, shared by the loader (which reports them with file and field path) and the record
 * constructors (which guarantee them for policies built in code). Each check returns the reason, or null.
 */
final class Rules {

    static final Pattern ENVIRONMENT = Pattern.compile("[a-z0-9-]{1,32}");
    static final Pattern VARIABLE_NAME = Pattern.compile("[A-Z_][A-Z0-9_]*");
    static final Pattern GROUP = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");

    static final int MAX_VALUE_LENGTH = 4096;
    static final int MAX_PATH_LENGTH = 4096;
    static final int DEFAULT_SECRET_LENGTH = 64;
    static final int MIN_SECRET_LENGTH = 32;
    static final int MAX_SECRET_LENGTH = 4096;
    static final Duration DEFAULT_PREVIOUS_GRACE = Duration.ofDays(7);
    static final Duration DEFAULT_RESTART_TIMEOUT = Duration.ofSeconds(60);
    static final Duration DEFAULT_HEALTH_TIMEOUT = Duration.ofSeconds(30);

    static final String SECRET_LENGTH_RANGE =
            "must be an integer between " + MIN_SECRET_LENGTH + " and " + MAX_SECRET_LENGTH;
    static final String OWN_NAME_EXPORT = "must differ from the secret's name";

    private Rules() {
    }

    static String environmentProblem(String environment) {
        if (environment == null || !ENVIRONMENT.matcher(environment).matches()) {
            return "must match [a-z0-9-]{1,32}";
        }
        return null;
    }

    static String variableNameProblem(String name) {
        if (name == null || !VARIABLE_NAME.matcher(name).matches()) {
            return "invalid name; must match [A-Z_][A-Z0-9_]*";
        }
        return null;
    }

    /** Never mentions the value itself: static values may be sensitive and errors end up in logs. */
    static String variableValueProblem(String value) {
        if (value == null) {
            return "must be a string";
        }
        if (value.length() > MAX_VALUE_LENGTH) {
            return "longer than " + MAX_VALUE_LENGTH + " characters";
        }
        if (hasControlCharacter(value)) {
            return "contains a control character (newline, tab, NUL, ...); env files hold one line per variable";
        }
        return envFileSyntaxProblem(value);
    }

    /*
     * The env file must give every value identically to systemd EnvironmentFile=, bash (set -a; . file) and
     * python-dotenv. envfile.EnvFileRenderer writes a value bare when it only has [A-Za-z0-9_@%+=:,./-] and
     * single-quoted otherwise, so what is refused here is what single quotes cannot carry identically.
     * EnvFileCompatibilityTest runs the real bash and python-dotenv (and a systemd-rule parser) to show both
     * halves: accepted values read the same everywhere, refused ones would not.
     */
    private static String envFileSyntaxProblem(String value) {
        if (value.indexOf('\'') >= 0) {
            return "contains a single quote ('), which cannot be written inside the single quotes env file values use";
        }
        if (value.indexOf('\\') >= 0) {
            return "contains a backslash (\\), which python-dotenv reads as an escape even inside single quotes";
        }
        if (value.indexOf('$') >= 0) {
            return "contains a dollar sign ($), which python-dotenv expands (${...}) even inside single quotes";
        }
        if (!value.isEmpty()
                && (isWhitespace(value.codePointAt(0)) || isWhitespace(value.codePointBefore(value.length())))) {
            // Quoted, all three readers would keep it; refused anyway because unquoted readers trim it and an
            // invisible edge space in a URL or path is almost always a copy-paste mistake.
            return "starts or ends with whitespace (refused as a likely mistake; env file readers trim unquoted "
                    + "values)";
        }
        for (int i = 0; i < value.length(); ) {
            int c = value.codePointAt(i);
            if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE) {
                return "contains an unpaired surrogate, which is not valid Unicode";
            }
            if (Character.getType(c) == Character.FORMAT) {
                return "contains an invisible format character (Unicode Cf, e.g. a zero-width space or byte order "
                        + "mark)";
            }
            if (isNoncharacter(c)) {
                return "contains a Unicode noncharacter, which systemd refuses in env files";
            }
            i += Character.charCount(c);
        }
        return null;
    }

    private static boolean isWhitespace(int codePoint) {
        // Java's isWhitespace leaves out no-break spaces; Python's str.strip() removes them too.
        return Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint);
    }

    private static boolean isNoncharacter(int codePoint) {
        return (codePoint >= 0xFDD0 && codePoint <= 0xFDEF) || (codePoint & 0xFFFE) == 0xFFFE;
    }

    static String groupProblem(String group) {
        if (group == null || !GROUP.matcher(group).matches()) {
            return "must match [a-z_][a-z0-9_-]{0,31}";
        }
        return null;
    }

    /** A user name as useradd accepts it (the same shape as a group name). */
    static String userProblem(String user) {
        return groupProblem(user);
    }

    /** Absolute and already normalized, so the path we check is the path we write. */
    static String absolutePathProblem(String path) {
        if (path == null || path.isEmpty()) {
            return "must be an absolute path";
        }
        if (path.length() > MAX_PATH_LENGTH) {
            return "longer than " + MAX_PATH_LENGTH + " characters";
        }
        if (hasControlCharacter(path)) {
            return "contains a control character";
        }
        if (!path.startsWith("/")) {
            return "must be absolute (start with /)";
        }
        if (path.endsWith("/")) {
            return "must not end with /";
        }
        if (path.contains("//")) {
            return "must be normalized (no //)";
        }
        for (String segment : path.substring(1).split("/")) {
            if (segment.equals(".") || segment.equals("..")) {
                return "must be normalized (no . or .. segments)";
            }
        }
        return null;
    }

    static String positiveProblem(Duration duration) {
        if (duration == null || duration.isNegative() || duration.isZero()) {
            return "must be positive";
        }
        return null;
    }

    static String secretLengthProblem(long length) {
        if (length < MIN_SECRET_LENGTH || length > MAX_SECRET_LENGTH) {
            return SECRET_LENGTH_RANGE;
        }
        return null;
    }

    static String commandArgumentProblem(String argument) {
        if (argument == null || argument.isBlank()) {
            return "must not be blank";
        }
        if (hasControlCharacter(argument)) {
            return "contains a control character";
        }
        return null;
    }

    static String healthUrlProblem(URI url) {
        if (url == null || !url.isAbsolute() || url.isOpaque()
                || !("http".equalsIgnoreCase(url.getScheme()) || "https".equalsIgnoreCase(url.getScheme()))) {
            return "must be an absolute http or https URL, e.g. http://127.0.0.1:8000/health";
        }
        if (url.getHost() == null) {
            return "must name a host, e.g. http://127.0.0.1:8000/health";
        }
        if (url.getRawUserInfo() != null) {
            // A password here would be a secret sitting in a plain policy file.
            return "must not contain user credentials";
        }
        return null;
    }

    /**
     * C0 controls, DEL and C1 controls, plus the Unicode line and paragraph separators, which some
     * readers treat as line breaks.
     */
    static boolean hasControlCharacter(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                return true;
            }
        }
        return false;
    }

    /** A field path (relative to the environment) and the reason it is refused. */
    record Problem(String field, String reason) {
    }

    /**
     * Every name an env file gets must be unique: variables, secrets and the names their previous values
     * are exported under. Secrets are checked in the given order, so the later of two clashing entries is
     * the one reported.
     */
    static Optional<Problem> nameClash(Set<String> variableNames, Collection<SecretPolicy> secrets) {
        Map<String, String> owners = new HashMap<>();
        for (String name : variableNames) {
            owners.put(name, "variables." + name);
        }
        for (SecretPolicy secret : secrets) {
            String owner = owners.putIfAbsent(secret.name(), "secrets." + secret.name());
            if (owner != null) {
                return Optional.of(new Problem("secrets." + secret.name(), "name already used by " + owner));
            }
        }
        for (SecretPolicy secret : secrets) {
            if (secret.exportPreviousAs().isEmpty()) {
                continue;
            }
            String export = secret.exportPreviousAs().get();
            String field = "secrets." + secret.name() + ".exportPreviousAs";
            String owner = owners.putIfAbsent(export, field);
            if (owner != null) {
                return Optional.of(new Problem(field, export + " is already used by " + owner));
            }
        }
        return Optional.empty();
    }

    /** Constructor-side enforcement: the loader has already reported the same rule with a file name. */
    static void check(String field, String problem) {
        if (problem != null) {
            throw new IllegalArgumentException(field + ": " + problem);
        }
    }
}
