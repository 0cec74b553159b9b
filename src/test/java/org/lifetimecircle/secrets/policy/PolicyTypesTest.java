package org.lifetimecircle.secrets.policy;

import static java.nio.file.attribute.PosixFilePermission.GROUP_READ;
import static java.nio.file.attribute.PosixFilePermission.OWNER_READ;
import static java.nio.file.attribute.PosixFilePermission.OWNER_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
        assertEquals("0600", FileMode.M0600.octal());
        assertEquals("0640", FileMode.M0640.octal());
        assertEquals(Set.of(OWNER_READ, OWNER_WRITE), FileMode.M0600.permissions());
        assertEquals(Set.of(OWNER_READ, OWNER_WRITE, GROUP_READ), FileMode.M0640.permissions());
        assertThrows(UnsupportedOperationException.class, () -> FileMode.M0600.permissions().add(GROUP_READ));
    }

    @Test
    void fileModeParsesOnlyTheExactOctalText() {
        assertEquals(Optional.of(FileMode.M0600), FileMode.parse("0600"));
        assertEquals(Optional.of(FileMode.M0640), FileMode.parse("0640"));
        for (String other : new String[] {"600", "0644", "M0600", " 0600", "", null}) {
            assertEquals(Optional.empty(), FileMode.parse(other), String.valueOf(other));
        }
    }

    @Test
    void alphabetsHoldDistinctCharactersOfTheExpectedSets() {
        assertEquals(64, distinct(Alphabet.BASE64URL));
        assertEquals(16, distinct(Alphabet.HEX));
        assertEquals(62, distinct(Alphabet.ALPHANUMERIC));
        assertEquals(Alphabet.ALPHANUMERIC.characters() + "-_", Alphabet.BASE64URL.characters());
        assertEquals(List.of("base64url", "hex", "alphanumeric"),
                List.of(Alphabet.values()).stream().map(Alphabet::yamlName).toList());
    }

    @Test
    void actionsAreWrittenInLowerCase() {
        assertEquals("repair", DriftAction.REPAIR.yamlName());
        assertEquals("emergency", OverdueAction.EMERGENCY.yamlName());
    }

    @Test
    void policyExceptionMessageIsFileFieldReason() {
        PolicyException e = new PolicyException("policies/environments/prod.yaml", "envFile.mode", "bad");

        assertEquals("policies/environments/prod.yaml: envFile.mode: bad", e.getMessage());
        assertEquals("policies/environments/prod.yaml", e.file());
        assertEquals("envFile.mode", e.field());
        assertEquals("bad", e.reason());
    }

    @Test
    void secretPolicyCannotBeBuiltOutsideTheRules() {
        assertThrows(IllegalArgumentException.class, () -> new SecretPolicy("LTC_SECRET_KEY", 31, Alphabet.HEX,
                Duration.ofDays(90), Duration.ofDays(9), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG));
        assertThrows(IllegalArgumentException.class, () -> new SecretPolicy("LTC_SECRET_KEY", 64, Alphabet.HEX,
                Duration.ofDays(9), Duration.ofDays(9), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG));
        assertThrows(IllegalArgumentException.class, () -> new SecretPolicy("lower", 64, Alphabet.HEX,
                Duration.ofDays(90), Duration.ofDays(9), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG));
    }

    @Test
    void envFilePolicyRefusesAGroupWithMode0600AndARelativePath() {
        assertThrows(IllegalArgumentException.class, () -> new EnvFilePolicy("/etc/p.env", FileMode.M0600,
                Optional.of("root"), DriftAction.REPAIR));
        assertThrows(IllegalArgumentException.class, () -> new EnvFilePolicy("etc/p.env", FileMode.M0600,
                Optional.empty(), DriftAction.REPAIR));
    }

    @Test
    void appPolicyRefusesAnEmptyCommandAndANonHttpUrl() {
        assertThrows(IllegalArgumentException.class, () -> new AppPolicy(List.of(), URI.create("http://h/"),
                Duration.ofSeconds(1), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new AppPolicy(List.of("true"), URI.create("file:///x"),
                Duration.ofSeconds(1), Duration.ofSeconds(1)));
    }

    @Test
    void environmentPolicyRefusesClashingNamesAndBadValues() {
        assertThrows(IllegalArgumentException.class, () -> environment(Map.of("LTC_SECRET_KEY", "x")));
        assertThrows(IllegalArgumentException.class, () -> environment(Map.of("LTC_SECRET_KEY_PREVIOUS", "x")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> environment(Map.of("LTC_X", "canary-7f3a9c-static-value\n")));
        PolicyFixtures.assertNoCanary(e);
        assertThrows(IllegalArgumentException.class, () -> new EnvironmentPolicy("prod", Path.of("prod.yaml"),
                ENV_FILE, new TreeMap<>(), new TreeMap<>(), Optional.empty(), Optional.empty()));
    }

    @Test
    void environmentPolicyKeepsSortedUnmodifiableCopies() {
        TreeMap<String, String> variables = new TreeMap<>(Map.of("B", "2", "A", "1"));
        EnvironmentPolicy policy = environment(variables);
        variables.put("C", "3");

        assertEquals(List.of("A", "B"), List.copyOf(policy.variables().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> policy.variables().clear());
    }

    private static EnvironmentPolicy environment(Map<String, String> variables) {
        return new EnvironmentPolicy("prod", Path.of("prod.yaml"), ENV_FILE, new TreeMap<>(variables),
                new TreeMap<>(Map.of(KEY.name(), KEY)), Optional.empty(), Optional.empty());
    }

    private static int distinct(Alphabet alphabet) {
        return alphabet.characters().chars().boxed().collect(Collectors.toSet()).size();
    }
}
