package org.lifetimecircle.secrets.policy;

import static java.nio.file.attribute.PosixFilePermission.GROUP_READ;
import static java.nio.file.attribute.PosixFilePermission.OWNER_READ;
import static java.nio.file.attribute.PosixFilePermission.OWNER_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The value types on their own: what they expose, and that they cannot be built in an invalid state. */
class PolicyTypesTest {

    private static final SecretPolicy KEY = new SecretPolicy("LTC_SECRET_KEY", 64, Alphabet.BASE64URL,
            Duration.ofDays(90), Duration.ofDays(9), Duration.ofDays(7), Optional.of("LTC_SECRET_KEY_PREVIOUS"),
            OverdueAction.FLAG);
    private static final EnvFilePolicy ENV_FILE = new EnvFilePolicy("/etc/lifetimecircle/prod.env", FileMode.M0600,
            Optional.empty(), DriftAction.REPAIR);

    @Test
    void fileModesKnowTheirOctalTextAndPermissions() {
        assertThat(FileMode.M0600.octal()).isEqualTo("0600");
        assertThat(FileMode.M0640.octal()).isEqualTo("0640");
        assertThat(FileMode.M0600.permissions()).isEqualTo(Set.of(OWNER_READ, OWNER_WRITE));
        assertThat(FileMode.M0640.permissions()).isEqualTo(Set.of(OWNER_READ, OWNER_WRITE, GROUP_READ));
        assertThatThrownBy(() -> FileMode.M0600.permissions().add(GROUP_READ))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void fileModeParsesOnlyTheExactOctalText() {
        assertThat(FileMode.parse("0600")).isEqualTo(Optional.of(FileMode.M0600));
        assertThat(FileMode.parse("0640")).isEqualTo(Optional.of(FileMode.M0640));
        for (String other : new String[] {"600", "0644", "M0600", " 0600", "", null}) {
            assertThat(FileMode.parse(other)).as(String.valueOf(other)).isEqualTo(Optional.empty());
        }
    }

    @Test
    void alphabetsHoldDistinctCharactersOfTheExpectedSets() {
        assertThat(distinct(Alphabet.BASE64URL)).isEqualTo(64);
        assertThat(distinct(Alphabet.HEX)).isEqualTo(16);
        assertThat(distinct(Alphabet.ALPHANUMERIC)).isEqualTo(62);
        assertThat(Alphabet.BASE64URL.characters()).isEqualTo(Alphabet.ALPHANUMERIC.characters() + "-_");
        assertThat(List.of(Alphabet.values()).stream().map(Alphabet::yamlName).toList())
                .isEqualTo(List.of("base64url", "hex", "alphanumeric"));
    }

    @Test
    void actionsAreWrittenInLowerCase() {
        assertThat(DriftAction.REPAIR.yamlName()).isEqualTo("repair");
        assertThat(OverdueAction.EMERGENCY.yamlName()).isEqualTo("emergency");
    }

    @Test
    void policyExceptionMessageIsFileFieldReason() {
        PolicyException e = new PolicyException("policies/environments/prod.yaml", "envFile.mode", "bad");

        assertThat(e.getMessage()).isEqualTo("policies/environments/prod.yaml: envFile.mode: bad");
        assertThat(e.file()).isEqualTo("policies/environments/prod.yaml");
        assertThat(e.field()).isEqualTo("envFile.mode");
        assertThat(e.reason()).isEqualTo("bad");
    }

    @Test
    void secretPolicyCannotBeBuiltOutsideTheRules() {
        assertThatThrownBy(() -> new SecretPolicy("LTC_SECRET_KEY", 31, Alphabet.HEX,
                Duration.ofDays(90), Duration.ofDays(9), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG))
                        .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SecretPolicy("LTC_SECRET_KEY", 64, Alphabet.HEX,
                Duration.ofDays(9), Duration.ofDays(9), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG))
                        .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SecretPolicy("lower", 64, Alphabet.HEX,
                Duration.ofDays(90), Duration.ofDays(9), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG))
                        .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void envFilePolicyRefusesAGroupWithMode0600AndARelativePath() {
        assertThatThrownBy(() -> new EnvFilePolicy("/etc/p.env", FileMode.M0600,
                Optional.of("root"), DriftAction.REPAIR)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EnvFilePolicy("etc/p.env", FileMode.M0600,
                Optional.empty(), DriftAction.REPAIR)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void appPolicyRefusesAnEmptyCommandAndANonHttpUrl() {
        assertThatThrownBy(() -> new AppPolicy(List.of(), URI.create("http://h/"),
                Duration.ofSeconds(1), Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AppPolicy(List.of("true"), URI.create("file:///x"),
                Duration.ofSeconds(1), Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void environmentPolicyRefusesClashingNamesAndBadValues() {
        assertThatThrownBy(() -> environment(Map.of("LTC_SECRET_KEY", "x")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> environment(Map.of("LTC_SECRET_KEY_PREVIOUS", "x")))
                .isInstanceOf(IllegalArgumentException.class);
        IllegalArgumentException e = assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> environment(Map.of("LTC_X", "canary-7f3a9c-static-value\n"))).actual();
        PolicyFixtures.assertNoCanary(e);
        assertThatThrownBy(() -> new EnvironmentPolicy("prod", Path.of("prod.yaml"),
                ENV_FILE, new TreeMap<>(), new TreeMap<>(), Optional.empty(), Optional.empty()))
                        .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void environmentPolicyKeepsSortedUnmodifiableCopies() {
        TreeMap<String, String> variables = new TreeMap<>(Map.of("B", "2", "A", "1"));
        EnvironmentPolicy policy = environment(variables);
        variables.put("C", "3");

        assertThat(List.copyOf(policy.variables().keySet())).isEqualTo(List.of("A", "B"));
        assertThatThrownBy(() -> policy.variables().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    private static EnvironmentPolicy environment(Map<String, String> variables) {
        return new EnvironmentPolicy("prod", Path.of("prod.yaml"), ENV_FILE, new TreeMap<>(variables),
                new TreeMap<>(Map.of(KEY.name(), KEY)), Optional.empty(), Optional.empty());
    }

    private static int distinct(Alphabet alphabet) {
        return alphabet.characters().chars().boxed().collect(Collectors.toSet()).size();
    }
}
