package org.lifetimecircle.secrets.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.CANARY;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.assertRefused;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.assertRefusedStartingWith;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.edit;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.parse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One test per rule a policy field must follow; every refusal names file, field and reason and leaks no value. */
class PolicyValidationTest {

    private static final String STRING_HINT = "must be a string; quote it so YAML does not reinterpret it";
    private static final String MODE_HINT = "must be a quoted string \"0600\" or \"0640\"";
    private static final String DURATION_HINT = "must be an ISO-8601 duration such as P90D, PT8H or PT5S";
    private static final String KEY = "secrets.LTC_SECRET_KEY.";

    // environment

    @ParameterizedTest
    @ValueSource(strings = {"Prod", "prod_1", "\"\"", "a-very-long-environment-name-over-32"})
    void environmentOutsideTheAllowedCharactersIsRefused(String environment) {
        assertRefused(edit("environment: prod", "environment: " + environment), "environment",
                "must match [a-z0-9-]{1,32}");
    }

    @Test
    void environmentDifferentFromTheFileNameIsRefused() {
        assertRefused(edit("environment: prod", "environment: staging"), "environment",
                "must equal the file name (prod.yaml)");
    }

    @Test
    void missingEnvironmentIsRefused() {
        assertRefused(edit("environment: prod\n", ""), "environment", "required");
    }

    // envFile

    @Test
    void missingEnvFileIsRefused() {
        assertRefused("environment: prod\nsecrets:\n  K_EY:\n    rotateEvery: P1D\n", "envFile", "required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"etc/prod.env", "./prod.env", "/etc/../prod.env", "/etc/./prod.env", "/etc//prod.env",
        "/etc/lifetimecircle/", "/", "\"\""})
    void envFilePathThatIsNotAbsoluteAndNormalizedIsRefused(String path) {
        assertRefusedStartingWith(edit("path: /etc/lifetimecircle/prod.env", "path: " + path), "envFile.path",
                "must");
    }

    @Test
    void envFilePathWithAControlCharacterIsRefused() {
        assertRefused(edit("path: /etc/lifetimecircle/prod.env", "path: \"/etc/prod\\n.env\""), "envFile.path",
                "contains a control character");
    }

    @Test
    void unquotedModeIsRefusedWithAHint() {
        assertRefused(edit("mode: \"0600\"", "mode: 0600"), "envFile.mode", MODE_HINT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"0644\"", "\"600\"", "\"0400\"", "rw-------", "0640"})
    void modeOtherThanQuoted0600Or0640IsRefused(String mode) {
        assertRefused(edit("mode: \"0600\"", "mode: " + mode), "envFile.mode", MODE_HINT);
    }

    @Test
    void missingModeIsRefused() {
        assertRefused(edit("  mode: \"0600\"\n", ""), "envFile.mode", "required");
    }

    @Test
    void groupIsOnlyAllowedWithMode0640() {
        assertRefused(edit("onDrift: repair", "onDrift: repair\n  group: root"), "envFile.group",
                "only allowed with mode \"0640\"");
    }

    @Test
    void groupThatDoesNotExistOnTheHostIsRefused() {
        assertRefused(with0640Group("ltc-no-such-group-x"), "envFile.group",
                "group ltc-no-such-group-x does not exist on this host");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Admins", "1group", "wheel!", "a-group-name-that-is-far-too-long-x"})
    void groupWithAnInvalidNameIsRefused(String group) {
        assertRefused(with0640Group(group), "envFile.group", "must match [a-z_][a-z0-9_-]{0,31}");
    }

    @Test
    void existingGroupIsAcceptedWithMode0640(@TempDir Path dir) throws IOException {
        // The group of a file we just created exists on any host, CI included.
        Path probe = Files.createFile(dir.resolve("probe"));
        String group = Files.readAttributes(probe, PosixFileAttributes.class).group().getName();
        assumeTrue(Rules.GROUP.matcher(group).matches(), "host group name not usable in a policy: " + group);

        EnvFilePolicy envFile = parse(with0640Group(group)).envFile();

        assertThat(envFile.mode()).isEqualTo(FileMode.M0640);
        assertThat(envFile.group()).isEqualTo(Optional.of(group));
    }

    @ParameterizedTest
    @ValueSource(strings = {"REPAIR", "Repair", "fix", "true", "1"})
    void onDriftOutsideTheLowerCaseValuesIsRefusedWithTheList(String value) {
        assertRefused(edit("onDrift: repair", "onDrift: " + value), "envFile.onDrift",
                "must be one of: flag, repair, emergency");
    }

    // variables

    @ParameterizedTest
    @ValueSource(strings = {"ltc_env", "1ABC", "LTC-ENV", "LTC ENV"})
    void variableNameOutsideUpperCaseAndUnderscoreIsRefused(String name) {
        assertRefused(edit("LTC_ENV: prod", "\"" + name + "\": prod"), "variables." + name,
                "invalid name; must match [A-Z_][A-Z0-9_]*");
    }

    @ParameterizedTest
    @ValueSource(strings = {"8000", "0600", "1.5", "true", "yes", "off", "~", "null", "[a, b]", "{a: b}"})
    void variableValueThatIsNotAYamlStringIsRefusedWithAHint(String value) {
        assertRefused(edit("LTC_ENV: prod", "LTC_ENV: " + value), "variables.LTC_ENV", STRING_HINT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\\n", "\\r", "\\0", "\\t", "\\x7f", "\\x1b", "\\x85", "\\u2028"})
    void variableValueWithAControlCharacterIsRefusedWithoutShowingIt(String escape) {
        assertRefusedStartingWith(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: \"" + CANARY + escape + CANARY + "\""),
                "variables.LTC_CANARY", "contains a control character");
    }

    @Test
    void multiLineBlockValueIsRefusedWithoutShowingIt() {
        assertRefusedStartingWith(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: |\n    " + CANARY + "\n    second"),
                "variables.LTC_CANARY", "contains a control character");
    }

    @Test
    void variableValueLongerThan4096CharactersIsRefusedWithoutShowingIt() {
        String value = CANARY + "x".repeat(4097 - CANARY.length());
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: " + value), "variables.LTC_CANARY",
                "longer than 4096 characters");
    }

    @Test
    void variableValueOfExactly4096CharactersIsAccepted() {
        String value = "v".repeat(4096);
        assertThat(parse(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: " + value)).variables().get("LTC_CANARY"))
                .isEqualTo(value);
    }

    @Test
    void variablesThatAreNotAMappingAreRefused() {
        assertRefused(edit("  LTC_ENV: prod\n  LTC_DB_PATH: /var/lib/lifetimecircle/data/app.db\n  LTC_CANARY: "
                + CANARY + "\n", "  - LTC_ENV\n"), "variables", "must be a mapping of NAME: value");
    }

    // variables: what an env file can carry identically to systemd, bash and python-dotenv
    // (envfile.EnvFileCompatibilityTest runs the real readers on both the accepted and the refused values)

    @ParameterizedTest
    @ValueSource(strings = {"\"" + CANARY + "'s\"", "\"'" + CANARY + "'\""})
    void variableValueWithASingleQuoteIsRefusedWithoutShowingIt(String yaml) {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: " + yaml), "variables.LTC_CANARY",
                "contains a single quote ('), which cannot be written inside the single quotes env file values use");
    }

    @ParameterizedTest
    @ValueSource(strings = {"'" + CANARY + "\\x'", "'" + CANARY + "\\'", "\"" + CANARY + "\\\\\""})
    void variableValueWithABackslashIsRefusedWithoutShowingIt(String yaml) {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: " + yaml), "variables.LTC_CANARY",
                "contains a backslash (\\), which python-dotenv reads as an escape even inside single quotes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"" + CANARY + "${HOME}\"", "\"$" + CANARY + "\"", "\"" + CANARY + "$\""})
    void variableValueWithADollarSignIsRefusedWithoutShowingIt(String yaml) {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: " + yaml), "variables.LTC_CANARY",
                "contains a dollar sign ($), which python-dotenv expands (${...}) even inside single quotes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\" " + CANARY + "\"", "\"" + CANARY + " \"", "\"\\u00a0" + CANARY + "\"",
        "\"" + CANARY + "\\u3000\"", "\" \""})
    void variableValueStartingOrEndingWithWhitespaceIsRefusedWithoutShowingIt(String yaml) {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: " + yaml), "variables.LTC_CANARY",
                "starts or ends with whitespace (refused as a likely mistake; env file readers trim unquoted values)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\\u200b", "\\ufeff", "\\u202e", "\\u00ad"})
    void variableValueWithAnInvisibleFormatCharacterIsRefusedWithoutShowingIt(String escape) {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: \"" + CANARY + escape + "x\""),
                "variables.LTC_CANARY",
                "contains an invisible format character (Unicode Cf, e.g. a zero-width space or byte order mark)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\\ufdd0", "\\ufffe", "\\U0001fffe"})
    void variableValueWithAUnicodeNoncharacterIsRefusedWithoutShowingIt(String escape) {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: \"" + CANARY + escape + "x\""),
                "variables.LTC_CANARY", "contains a Unicode noncharacter, which systemd refuses in env files");
    }

    @Test
    void variableValueWithAnUnpairedSurrogateIsRefused() {
        assertThat(Rules.variableValueProblem("a\ud800b"))
                .isEqualTo("contains an unpaired surrogate, which is not valid Unicode");
        assertThat(Rules.variableValueProblem("a\udc00"))
                .isEqualTo("contains an unpaired surrogate, which is not valid Unicode");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a b", "\"\\\"quoted\\\"\"", "\"#hash\"", "a=b", "café 🔑", "\"a\\u00a0b\"",
        "sqlite+pysqlite:////var/lib/x.db", "\"`id`; echo ~ | * & (x) <y> {a,b}\"", "\"\""})
    void variableValueThatEveryEnvFileReaderReadsAlikeIsAccepted(String yaml) {
        String value = parse(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: " + yaml)).variables().get("LTC_CANARY");
        assertThat(Rules.variableValueProblem(value)).isNull();
    }

    // secrets

    @Test
    void missingSecretsAreRefused() {
        assertRefused("environment: prod\nenvFile:\n  path: /etc/p.env\n  mode: \"0600\"\n", "secrets", "required");
    }

    @Test
    void emptySecretsAreRefused() {
        assertRefused("environment: prod\nenvFile:\n  path: /etc/p.env\n  mode: \"0600\"\nsecrets: {}\n", "secrets",
                "at least one secret is required");
    }

    @Test
    void secretNameOutsideUpperCaseAndUnderscoreIsRefused() {
        assertRefused(edit("  LTC_SECRET_KEY:\n", "  ltc-secret-key:\n"), "secrets.ltc-secret-key",
                "invalid name; must match [A-Z_][A-Z0-9_]*");
    }

    @Test
    void secretNamedLikeAVariableIsRefused() {
        assertRefused(edit("  LTC_SECRET_KEY:\n", "  LTC_ENV:\n"), "secrets.LTC_ENV",
                "name already used by variables.LTC_ENV");
    }

    @Test
    void previousExportNamedLikeAVariableIsRefused() {
        assertRefused(edit("exportPreviousAs: LTC_SECRET_KEY_PREVIOUS", "exportPreviousAs: LTC_ENV"),
                KEY + "exportPreviousAs", "LTC_ENV is already used by variables.LTC_ENV");
    }

    @Test
    void previousExportNamedLikeAnotherSecretIsRefused() {
        String yaml = edit(edit("exportPreviousAs: LTC_SECRET_KEY_PREVIOUS", "exportPreviousAs: LTC_OTHER"),
                "app:", "  LTC_OTHER:\n    rotateEvery: P1D\napp:");
        assertRefused(yaml, KEY + "exportPreviousAs", "LTC_OTHER is already used by secrets.LTC_OTHER");
    }

    @Test
    void twoSecretsExportingTheirPreviousUnderOneNameAreRefused() {
        String yaml = edit("app:",
                "  LTC_OTHER:\n    rotateEvery: P1D\n    exportPreviousAs: LTC_SECRET_KEY_PREVIOUS\napp:");
        assertRefused(yaml, "secrets.LTC_OTHER.exportPreviousAs",
                "LTC_SECRET_KEY_PREVIOUS is already used by secrets.LTC_SECRET_KEY.exportPreviousAs");
    }

    @Test
    void previousExportNamedLikeItsOwnSecretIsRefused() {
        assertRefused(edit("exportPreviousAs: LTC_SECRET_KEY_PREVIOUS", "exportPreviousAs: LTC_SECRET_KEY"),
                KEY + "exportPreviousAs", "must differ from the secret's name");
    }

    @Test
    void previousExportWithAnInvalidNameIsRefused() {
        assertRefused(edit("exportPreviousAs: LTC_SECRET_KEY_PREVIOUS", "exportPreviousAs: previous-key"),
                KEY + "exportPreviousAs", "invalid name; must match [A-Z_][A-Z0-9_]*");
    }

    @ParameterizedTest
    @ValueSource(strings = {"31", "0", "-64", "4097", "99999999999999999999", "\"64\"", "64.0", "sixty-four", ".inf"})
    void lengthOutsideIntegers32To4096IsRefused(String length) {
        assertRefused(edit("length: 64", "length: " + length), KEY + "length",
                "must be an integer between 32 and 4096");
    }

    @ParameterizedTest
    @ValueSource(strings = {"32", "4096"})
    void lengthAtTheBoundsIsAccepted(String length) {
        assertThat(parse(edit("length: 64", "length: " + length)).secrets().get("LTC_SECRET_KEY").length())
                .isEqualTo(Integer.parseInt(length));
    }

    @ParameterizedTest
    @ValueSource(strings = {"BASE64URL", "base64", "Hex", "alnum"})
    void alphabetOutsideTheLowerCaseNamesIsRefusedWithTheList(String alphabet) {
        assertRefused(edit("alphabet: base64url", "alphabet: " + alphabet), KEY + "alphabet",
                "must be one of: base64url, hex, alphanumeric");
    }

    @Test
    void missingRotateEveryIsRefused() {
        assertRefused(edit("    rotateEvery: P90D\n", ""), KEY + "rotateEvery", "required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"P1M", "P1Y", "P2W", "P1Y2M3D", "p3m"})
    void calendarUnitsInADurationAreRefusedWithADaysHint(String duration) {
        assertRefused(edit("rotateEvery: P90D", "rotateEvery: " + duration), KEY + "rotateEvery",
                "use days, e.g. P30D");
    }

    @ParameterizedTest
    @ValueSource(strings = {"90d", "90 days", "90", "P", "PT", "true"})
    void durationThatIsNotIso8601IsRefused(String duration) {
        assertRefused(edit("rotateEvery: P90D", "rotateEvery: " + duration), KEY + "rotateEvery", DURATION_HINT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"rotateEvery: P90D", "warnBefore: P14D", "previousGrace: P7D"})
    void zeroOrNegativeDurationIsRefused(String line) {
        String field = line.substring(0, line.indexOf(':'));
        assertRefused(edit(line, field + ": PT0S"), KEY + field, "must be positive");
        assertRefused(edit(line, field + ": -P1D"), KEY + field, "must be positive");
        assertRefused(edit(line, field + ": P-1D"), KEY + field, "must be positive");
    }

    @ParameterizedTest
    @ValueSource(strings = {"P90D", "P91D", "PT2161H"})
    void warnBeforeNotShorterThanRotateEveryIsRefused(String warnBefore) {
        assertRefused(edit("warnBefore: P14D", "warnBefore: " + warnBefore), KEY + "warnBefore",
                "must be shorter than rotateEvery");
    }

    @Test
    void defaultWarnBeforeIsATenthOfRotateEvery() {
        SecretPolicy secret = parse(edit(edit("    warnBefore: P14D\n", ""), "rotateEvery: P90D", "rotateEvery: PT8H"))
                .secrets().get("LTC_SECRET_KEY");
        assertThat(secret.warnBefore()).isEqualTo(Duration.ofMinutes(48));
    }

    @ParameterizedTest
    @ValueSource(strings = {"FLAG", "alert", "rotate-now"})
    void whenOverdueOutsideTheLowerCaseValuesIsRefusedWithTheList(String value) {
        assertRefused(edit("whenOverdue: flag", "whenOverdue: " + value), KEY + "whenOverdue",
                "must be one of: flag, rotate, emergency");
    }

    @Test
    void secretThatIsNotAMappingIsRefused() {
        assertRefusedStartingWith(edit("app:", "  LTC_OTHER: P90D\napp:"), "secrets.LTC_OTHER",
                "must be a mapping");
    }

    // app

    @Test
    void emptyRestartCommandIsRefused() {
        assertRefused(appCommand("[]"), "app.restartCommand", "must not be empty");
    }

    @Test
    void restartCommandThatIsNotAListIsRefused() {
        assertRefusedStartingWith(appCommand("systemctl restart lifetimecircle-api"), "app.restartCommand",
                "must be a list");
    }

    @Test
    void blankRestartCommandArgumentIsRefused() {
        assertRefused(appCommand("[\"systemctl\", \"  \"]"), "app.restartCommand[1]", "must not be blank");
    }

    @Test
    void nonStringRestartCommandArgumentIsRefused() {
        assertRefused(appCommand("[sleep, 5]"), "app.restartCommand[1]", STRING_HINT);
    }

    @Test
    void restartCommandArgumentWithAControlCharacterIsRefused() {
        assertRefused(appCommand("[\"systemctl\", \"restart\\nx\"]"), "app.restartCommand[1]",
                "contains a control character");
    }

    @Test
    void missingHealthUrlIsRefused() {
        assertRefused(edit("  healthUrl: http://127.0.0.1:8000/health\n", ""), "app.healthUrl", "required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/health", "ftp://127.0.0.1/health", "127.0.0.1:8000/health", "mailto:ops@example.org",
        "http:///health", "\"http://exa mple/\"", "8000"})
    void healthUrlThatIsNotAnAbsoluteHttpUrlWithAHostIsRefused(String url) {
        assertRefusedStartingWith(edit("healthUrl: http://127.0.0.1:8000/health", "healthUrl: " + url),
                "app.healthUrl", "must");
    }

    @Test
    void healthUrlWithCredentialsIsRefused() {
        assertRefused(edit("healthUrl: http://127.0.0.1:8000/health", "healthUrl: http://u:p@127.0.0.1:8000/health"),
                "app.healthUrl", "must not contain user credentials");
    }

    @ParameterizedTest
    @ValueSource(strings = {"restartTimeout: PT60S", "healthTimeout: PT30S"})
    void nonPositiveAppTimeoutIsRefused(String line) {
        String field = line.substring(0, line.indexOf(':'));
        assertRefused(edit(line, field + ": PT0S"), "app." + field, "must be positive");
    }

    @Test
    void unknownAppFieldIsRefused() {
        assertRefusedStartingWith(edit("healthTimeout: PT30S", "healthTimeout: PT30S\n  owner: root"), "app.owner",
                "unknown field");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Root", "-app", "app user", "a/b", "\"\""})
    void appUserWithAnInvalidNameIsRefused(String user) {
        assertRefusedStartingWith(edit("healthTimeout: PT30S", "healthTimeout: PT30S\n  user: " + user), "app.user",
                "must match");
    }

    // paths

    @ParameterizedTest
    @ValueSource(strings = {"data: /var/lib/lifetimecircle/data", "storage: /var/lib/lifetimecircle/storage"})
    void relativeOrUnnormalizedPreflightPathIsRefused(String line) {
        String field = line.substring(0, line.indexOf(':'));
        assertRefused(edit(line, field + ": var/lib"), "paths." + field, "must be absolute (start with /)");
        assertRefused(edit(line, field + ": /var/lib/../x"), "paths." + field,
                "must be normalized (no . or .. segments)");
    }

    @Test
    void pathsMayNameOnlyOneDirectory() {
        PathsPolicy paths = parse(edit("  storage: /var/lib/lifetimecircle/storage\n", "")).paths().orElseThrow();
        assertThat(paths.data()).isEqualTo(Optional.of("/var/lib/lifetimecircle/data"));
        assertThat(paths.storage()).isEqualTo(Optional.empty());
    }

    // grants

    @Test
    void grantsMaxTtlIsOptionalAndParsed() {
        assertThat(parse(edit("paths:", "paths:")).grants()).isEqualTo(Optional.empty());
        GrantsPolicy grants = parse(edit("paths:", "grants:\n  maxTtl: PT8H\npaths:")).grants().orElseThrow();
        assertThat(grants.maxTtl()).isEqualTo(Optional.of(Duration.ofHours(8)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"PT0S", "-PT1H", "8h", "P1M"})
    void badGrantsMaxTtlIsRefused(String value) {
        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> parse(edit("paths:", "grants:\n  maxTtl: " + value + "\npaths:"))).actual();
        assertThat(e.field()).isEqualTo("grants.maxTtl");
    }

    @Test
    void unknownGrantsFieldIsRefused() {
        assertRefusedStartingWith(edit("paths:", "grants:\n  forever: true\npaths:"), "grants.forever",
                "unknown field");
    }

    // approvals (two-person approval)

    @Test
    void approvalsAreOptionalWithDefaults() {
        assertThat(parse(edit("paths:", "paths:")).approvals()).isEqualTo(Optional.empty());
        ApprovalsPolicy only = parse(edit("paths:", "approvals:\n  grants: true\npaths:")).approvals().orElseThrow();
        assertThat(only).isEqualTo(new ApprovalsPolicy(true, false, Duration.ofHours(24)));
        ApprovalsPolicy all = parse(edit("paths:", "approvals:\n  grants: false\n  rotations: true\n"
                + "  expireAfter: PT1M\npaths:")).approvals().orElseThrow();
        assertThat(all).isEqualTo(new ApprovalsPolicy(false, true, Duration.ofMinutes(1)));
        assertThat(parse(edit("paths:", "approvals:\n  expireAfter: P7D\npaths:")).approvals().orElseThrow()
                .expireAfter()).isEqualTo(Duration.ofDays(7));
    }

    @ParameterizedTest
    @ValueSource(strings = {"PT59S", "P8D", "PT0S", "-PT1H", "1d", "P1M"})
    void expireAfterOutsidePT1MToP7DIsRefused(String value) {
        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> parse(edit("paths:", "approvals:\n  grants: true\n  expireAfter: " + value
                        + "\npaths:"))).actual();
        assertThat(e.field()).isEqualTo("approvals.expireAfter");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"true\"", "yes-please", "1", "[true]"})
    void approvalSwitchesMustBeBooleans(String value) {
        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> parse(edit("paths:", "approvals:\n  grants: " + value + "\npaths:"))).actual();
        assertThat(e.field()).isEqualTo("approvals.grants");
    }

    @Test
    void unknownApprovalsFieldIsRefused() {
        assertRefusedStartingWith(edit("paths:", "approvals:\n  emergencies: true\npaths:"), "approvals.emergencies",
                "unknown field");
    }

    private static String with0640Group(String group) {
        return edit(edit("mode: \"0600\"", "mode: \"0640\""), "onDrift: repair", "onDrift: repair\n  group: " + group);
    }

    private static String appCommand(String command) {
        return edit("restartCommand: [\"systemctl\", \"restart\", \"lifetimecircle-api\"]",
                "restartCommand: " + command);
    }
}
