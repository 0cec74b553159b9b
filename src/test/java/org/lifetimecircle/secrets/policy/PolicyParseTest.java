package org.lifetimecircle.secrets.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.CANARY;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.FILE;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.FULL;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.assertRefused;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.assertRefusedStartingWith;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.edit;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.parse;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Whole policies in, records out; and the strict-YAML refusals that apply before any field is looked at. */
class PolicyParseTest {

    private static final String MINIMAL = """
            environment: prod
            envFile:
              path: /etc/lifetimecircle/prod.env
              mode: "0600"
            secrets:
              LTC_SECRET_KEY:
                rotateEvery: P90D
            """;

    @Test
    void fullPolicyParsesToExactlyTheRecordItDescribes() {
        EnvironmentPolicy expected = new EnvironmentPolicy("prod", FILE,
                new EnvFilePolicy("/etc/lifetimecircle/prod.env", FileMode.M0600, Optional.empty(), DriftAction.REPAIR),
                new TreeMap<>(Map.of("LTC_ENV", "prod", "LTC_DB_PATH", "/var/lib/lifetimecircle/data/app.db",
                        "LTC_CANARY", CANARY)),
                new TreeMap<>(Map.of("LTC_SECRET_KEY", new SecretPolicy("LTC_SECRET_KEY", 64, Alphabet.BASE64URL,
                        Duration.ofDays(90), Duration.ofDays(14), Duration.ofDays(7),
                        Optional.of("LTC_SECRET_KEY_PREVIOUS"), OverdueAction.FLAG))),
                Optional.of(new AppPolicy(List.of("systemctl", "restart", "lifetimecircle-api"),
                        URI.create("http://127.0.0.1:8000/health"), Duration.ofSeconds(60), Duration.ofSeconds(30))),
                Optional.of(new PathsPolicy(Optional.of("/var/lib/lifetimecircle/data"),
                        Optional.of("/var/lib/lifetimecircle/storage"))));

        assertThat(parse(FULL)).isEqualTo(expected);
    }

    @Test
    void minimalPolicyGetsEveryDefault() {
        EnvironmentPolicy policy = parse(MINIMAL);

        assertThat(policy.envFile().onDrift()).isEqualTo(DriftAction.REPAIR);
        assertThat(policy.envFile().group()).isEqualTo(Optional.empty());
        assertThat(policy.variables()).isEqualTo(Map.of());
        assertThat(policy.app()).isEqualTo(Optional.empty());
        assertThat(policy.paths()).isEqualTo(Optional.empty());
        assertThat(policy.secrets().get("LTC_SECRET_KEY"))
                .isEqualTo(new SecretPolicy("LTC_SECRET_KEY", 64, Alphabet.BASE64URL, Duration.ofDays(90),
                Duration.ofDays(9), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG));
    }

    @Test
    void appTimeoutsDefaultToSixtyAndThirtySeconds() {
        EnvironmentPolicy policy = parse(MINIMAL + """
                app:
                  restartCommand: [systemctl, restart, lifetimecircle-api]
                  healthUrl: https://localhost/health
                """);

        AppPolicy app = policy.app().orElseThrow();
        assertThat(app.restartTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(app.healthTimeout()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void secondsAreAcceptedEverywhereForDrills() {
        SecretPolicy secret = parse(edit("rotateEvery: P90D\n    warnBefore: P14D\n    previousGrace: P7D",
                "rotateEvery: PT10S\n    warnBefore: PT5S\n    previousGrace: PT5S")).secrets().get("LTC_SECRET_KEY");

        assertThat(secret.rotateEvery()).isEqualTo(Duration.ofSeconds(10));
        assertThat(secret.warnBefore()).isEqualTo(Duration.ofSeconds(5));
        assertThat(secret.previousGrace()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void variablesAndSecretsComeOutSortedByNameAndUnmodifiable() {
        EnvironmentPolicy policy = parse(edit("  LTC_SECRET_KEY:\n",
                "  ZZ_TOKEN:\n    rotateEvery: P30D\n  LTC_SECRET_KEY:\n"));

        assertThat(List.copyOf(policy.variables().keySet())).isEqualTo(List.of("LTC_CANARY", "LTC_DB_PATH", "LTC_ENV"));
        assertThat(List.copyOf(policy.secrets().keySet())).isEqualTo(List.of("LTC_SECRET_KEY", "ZZ_TOKEN"));
        assertThatThrownBy(() -> policy.variables().put("X", "y")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> policy.secrets().remove("ZZ_TOKEN")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void otherAlphabetsAndActionsAreReadFromTheirLowerCaseNames() {
        EnvironmentPolicy policy = parse(edit(edit(edit("alphabet: base64url", "alphabet: hex"),
                "whenOverdue: flag", "whenOverdue: emergency"), "onDrift: repair", "onDrift: flag"));

        assertThat(policy.secrets().get("LTC_SECRET_KEY").alphabet()).isEqualTo(Alphabet.HEX);
        assertThat(policy.secrets().get("LTC_SECRET_KEY").whenOverdue()).isEqualTo(OverdueAction.EMERGENCY);
        assertThat(policy.envFile().onDrift()).isEqualTo(DriftAction.FLAG);
    }

    @Test
    void modeWithAnExplicitStringTagIsAccepted() {
        assertThat(parse(edit("mode: \"0600\"", "mode: !!str 0640")).envFile().mode()).isEqualTo(FileMode.M0640);
    }

    @Test
    void toStringNamesVariablesButNeverShowsTheirValues() {
        String shown = parse(FULL).toString();

        assertThat(shown.contains("LTC_CANARY")).as(shown).isTrue();
        assertThat(shown.contains(CANARY)).as(shown).isFalse();
    }

    @Test
    void sourceFileIsThePathGivenToTheParser() {
        assertThat(parse(FULL).sourceFile()).isEqualTo(FILE);
    }

    // Strict YAML

    @Test
    void misspeltFieldIsRefusedWithItsFullPath() {
        assertRefusedStartingWith(edit("length: 64", "lenght: 64"), "secrets.LTC_SECRET_KEY.lenght", "unknown field");
    }

    @Test
    void unknownFieldListsWhatIsAllowedThere() {
        assertRefused(edit("onDrift: repair", "owner: root"), "envFile.owner",
                "unknown field; allowed here: path, mode, group, onDrift");
    }

    @Test
    void unknownTopLevelFieldIsRefused() {
        assertRefusedStartingWith(FULL + "version: 2\n", "version", "unknown field");
    }

    @Test
    void duplicateKeyIsRefusedWithItsPathAndLine() {
        assertRefused(edit("  LTC_ENV: prod\n", "  LTC_ENV: prod\n  LTC_ENV: staging\n"), "variables.LTC_ENV",
                "duplicate key (line 8)");
    }

    @Test
    void duplicateTopLevelSectionIsRefused() {
        assertRefusedStartingWith(FULL + "paths:\n  data: /srv\n", "paths", "duplicate key");
    }

    @Test
    void syntaxErrorGivesTheLineButNeverTheLineItself() {
        PolicyException e = assertRefusedStartingWith(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: '" + CANARY),
                "(yaml)", "invalid YAML at line");
        assertThat(e.reason().contains("line 9")).as(e.reason()).isTrue();
    }

    @Test
    void mappingValueWhereNoneIsAllowedGivesLineAndColumn() {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: " + CANARY + ": x"), "(yaml)",
                "invalid YAML at line 9, column 41: mapping values are not allowed here");
    }

    @Test
    void badEscapeInAQuotedValueIsReportedWithoutTheValue() {
        assertRefusedStartingWith(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: \"" + CANARY + "\\q\""), "(yaml)",
                "invalid YAML at line 9");
    }

    @Test
    void tabIndentationIsReportedWithoutTheLine() {
        assertRefusedStartingWith(edit("  LTC_CANARY: " + CANARY, "\tLTC_CANARY: " + CANARY), "(yaml)",
                "invalid YAML at line 9");
    }

    @Test
    void rawControlCharacterInTheFileIsReportedByLineAndColumn() {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: " + CANARY + "\u0001" + CANARY), "(yaml)",
                "invalid YAML at line 9, column 41: contains a character YAML does not allow (a control character?)");
    }

    @Test
    void unclosedListSaysWhereItStarted() {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: [" + CANARY), "(yaml)",
                "invalid YAML at line 10, column 8: expected ',' or ']', but got : "
                        + "(while parsing a flow sequence started at line 9, column 15)");
    }

    @Test
    void parserProblemsLoseAnyTextTheyQuote() {
        assertThat(YamlTree.redact("found unknown escape character q(113)"))
                .isEqualTo("found unknown escape character");
        assertThat(YamlTree.redact("found 'k3y-value' here, expected ',' or '<scalar>'"))
                .isEqualTo("found '...' here, expected ',' or '<scalar>'");
    }

    @Test
    void aliasIsRefusedBecauseJacksonWouldReadItsName() {
        assertRefused(edit("LTC_ENV: prod", "LTC_ENV: &e " + CANARY + "\n  LTC_OTHER: *e"), "variables.LTC_OTHER",
                "YAML aliases (*name) are not supported; write the value out");
    }

    @Test
    void customTagIsRefused() {
        assertRefused(edit("LTC_CANARY: " + CANARY, "LTC_CANARY: !secret " + CANARY), "variables.LTC_CANARY",
                "YAML tags (!name) are not supported; quote the value instead");
    }

    @Test
    void secondDocumentIsRefused() {
        assertRefused(FULL + "---\nenvironment: staging\n", "(yaml)",
                "more than one YAML document (---); one policy per file");
    }

    @Test
    void emptyFileIsRefused() {
        assertRefusedStartingWith("# nothing yet\n", "(yaml)", "file is empty");
    }

    @Test
    void listAtTheTopIsRefused() {
        assertRefusedStartingWith("- environment: prod\n", "(yaml)", "must be a mapping");
    }

    @Test
    void explicitNullForAnOptionalFieldIsRefusedRatherThanDefaulted() {
        assertRefused(edit("onDrift: repair", "onDrift: ~"), "envFile.onDrift",
                "is empty; give a value or remove the key to use the default");
    }

    @Test
    void fileNotEndingInYamlIsRefused() {
        PolicyException yml = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.parse(Path.of("environments/prod.yml"), FULL)).actual();
        assertThat(yml.field()).isEqualTo("(file name)");
        assertThat(yml.reason().startsWith("rename to .yaml")).as(yml.reason()).isTrue();

        PolicyException txt = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.parse(Path.of("environments/prod.txt"), FULL)).actual();
        assertThat(txt.field()).isEqualTo("(file name)");
    }
}
