package org.lifetimecircle.secrets.envfile;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.lifetimecircle.secrets.policy.Alphabet;
import org.lifetimecircle.secrets.policy.DriftAction;
import org.lifetimecircle.secrets.policy.EnvFilePolicy;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.FileMode;
import org.lifetimecircle.secrets.policy.OverdueAction;
import org.lifetimecircle.secrets.policy.SecretPolicy;

/** Policies and secret values built in code for the env file tests. */
final class EnvFileFixtures {

    static final Instant PROMOTED = Instant.parse("2026-03-06T09:00:00Z");

    private static final SecureRandom RANDOM = new SecureRandom();

    private EnvFileFixtures() {
    }

    /** A 0600 policy for {@code prod} with these static variables and these secrets. */
    static EnvironmentPolicy policy(Map<String, String> variables, SecretPolicy... secrets) {
        Map<String, SecretPolicy> byName = new TreeMap<>();
        for (SecretPolicy secret : secrets) {
            byName.put(secret.name(), secret);
        }
        return new EnvironmentPolicy("prod", Path.of("policies/environments/prod.yaml"),
                new EnvFilePolicy("/etc/lifetimecircle/prod.env", FileMode.M0600, Optional.empty(), DriftAction.REPAIR),
                new TreeMap<>(variables), new TreeMap<>(byName), Optional.empty(), Optional.empty());
    }

    static SecretPolicy secret(String name, Alphabet alphabet, Optional<String> exportPreviousAs) {
        return new SecretPolicy(name, 64, alphabet, Duration.ofDays(90), Duration.ofDays(14), Duration.ofDays(7),
                exportPreviousAs, OverdueAction.FLAG);
    }

    /** LTC_SECRET_KEY, base64url, previous exported as LTC_SECRET_KEY_PREVIOUS, as in the shipped policies. */
    static SecretPolicy secretKey() {
        return secret("LTC_SECRET_KEY", Alphabet.BASE64URL, Optional.of("LTC_SECRET_KEY_PREVIOUS"));
    }

    /** A random value of {@code length} characters drawn from {@code alphabet}, like the generator makes. */
    static String generated(Alphabet alphabet, int length) {
        StringBuilder value = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            value.append(alphabet.characters().charAt(RANDOM.nextInt(alphabet.characters().length())));
        }
        return value.toString();
    }

    /** True if a policy accepts {@code value} as a static variable. */
    static boolean policyAccepts(String value) {
        try {
            policy(Map.of("V", value), secretKey());
            return true;
        } catch (IllegalArgumentException refused) {
            return false;
        }
    }

    /** The reason a policy gives for refusing {@code value}, as {@code variables.V: <reason>}. */
    static String policyRefusal(String value) {
        try {
            policy(Map.of("V", value), secretKey());
            return null;
        } catch (IllegalArgumentException refused) {
            return refused.getMessage();
        }
    }
}
