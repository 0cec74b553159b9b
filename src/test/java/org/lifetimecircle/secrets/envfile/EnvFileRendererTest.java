package org.lifetimecircle.secrets.envfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.lifetimecircle.secrets.envfile.EnvFileFixtures.PROMOTED;
import static org.lifetimecircle.secrets.envfile.EnvFileFixtures.policy;
import static org.lifetimecircle.secrets.envfile.EnvFileFixtures.secret;
import static org.lifetimecircle.secrets.envfile.EnvFileFixtures.secretKey;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.policy.Alphabet;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.secret.SecretValues;

/** The env file's exact bytes: header, order, quoting, previous values, and what the renderer refuses. */
class EnvFileRendererTest {

    private static final String KEY = "Yk3v_Q-9".repeat(8);
    private static final String OLD_KEY = "oldOLD-_".repeat(8);
    private static final EnvironmentPolicy PROD = policy(Map.of(
            "LTC_ENV", "prod",
            "LTC_DATABASE_URL", "sqlite+pysqlite:////var/lib/lifetimecircle/data/app.db",
            "LTC_DB_PATH", "/var/lib/lifetimecircle/data/app.db",
            "LTC_GREETING", "hello world"), secretKey());

    @Test
    void rendersTheHeaderThenSortedLinesWithThePreviousValue() {
        byte[] content = EnvFileRenderer.render(PROD,
                Map.of("LTC_SECRET_KEY", new SecretValues(3, PROMOTED, KEY, Optional.of(OLD_KEY))));

        assertThat(new String(content, StandardCharsets.UTF_8)).isEqualTo("""
                # ltc-secrets env file: environment=prod version=LTC_SECRET_KEY:3 promotedAt=2026-03-06T09:00:00Z \
                - written by ltc-secrets; do not edit
                LTC_DATABASE_URL=sqlite+pysqlite:////var/lib/lifetimecircle/data/app.db
                LTC_DB_PATH=/var/lib/lifetimecircle/data/app.db
                LTC_ENV=prod
                LTC_GREETING='hello world'
                LTC_SECRET_KEY=%s
                LTC_SECRET_KEY_PREVIOUS=%s
                """.formatted(KEY, OLD_KEY));
    }

    @Test
    void withoutAPreviousValueTheExportedNameIsLeftOut() {
        String text = text(EnvFileRenderer.render(PROD, Map.of("LTC_SECRET_KEY", new SecretValues(1, PROMOTED, KEY))));

        assertThat(text.contains("\nLTC_SECRET_KEY=" + KEY + "\n")).isTrue();
        assertThat(text.contains("LTC_SECRET_KEY_PREVIOUS")).isFalse();
    }

    @Test
    void aPreviousValueIsLeftOutWhenThePolicyDoesNotExportIt() {
        EnvironmentPolicy policy = policy(Map.of(), secret("LTC_SECRET_KEY", Alphabet.BASE64URL, Optional.empty()));

        String text = text(EnvFileRenderer.render(policy,
                Map.of("LTC_SECRET_KEY", new SecretValues(2, PROMOTED, KEY, Optional.of(OLD_KEY)))));

        assertThat(text.contains(OLD_KEY)).isFalse();
    }

    @Test
    void theSameVersionAlwaysRendersTheSameBytes() {
        // Sub-second precision may be lost on the way through the DB; it must not change the file.
        byte[] first = EnvFileRenderer.render(PROD, Map.of("LTC_SECRET_KEY",
                new SecretValues(3, PROMOTED.plusNanos(123_456_789), new StringBuilder(KEY))));
        byte[] again = EnvFileRenderer.render(PROD, Map.of("LTC_SECRET_KEY", new SecretValues(3, PROMOTED, KEY)));

        assertThat(again).isEqualTo(first);
        assertThat(EnvFileRenderer.sha256Hex(again)).isEqualTo(EnvFileRenderer.sha256Hex(first));
    }

    @Test
    void severalSecretsAreAllNamedInTheHeaderWithTheLatestPromotion() {
        EnvironmentPolicy policy = policy(Map.of(), secretKey(),
                secret("LTC_HEX_KEY", Alphabet.HEX, Optional.empty()));
        Instant later = Instant.parse("2026-04-01T12:30:00Z");

        String text = text(EnvFileRenderer.render(policy, Map.of(
                "LTC_SECRET_KEY", new SecretValues(3, PROMOTED, KEY),
                "LTC_HEX_KEY", new SecretValues(12, later, "0123456789abcdef".repeat(4)))));

        assertThat(text.startsWith("# ltc-secrets env file: environment=prod version=LTC_HEX_KEY:12,LTC_SECRET_KEY:3 "
                + "promotedAt=2026-04-01T12:30:00Z - written by ltc-secrets; do not edit\n")).as(text).isTrue();
    }

    @Test
    void unicodeIsWrittenAsUtf8InsideSingleQuotes() {
        EnvironmentPolicy policy = policy(Map.of("LTC_NAME", "café 🔑"), secretKey());

        byte[] content = EnvFileRenderer.render(policy, Map.of("LTC_SECRET_KEY", new SecretValues(1, PROMOTED, KEY)));

        assertThat(text(content).contains("\nLTC_NAME='café 🔑'\n")).isTrue();
        assertThat(content).isEqualTo(text(content).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void onlyFilesWithOurHeaderCountAsWrittenByUs() {
        byte[] ours = EnvFileRenderer.render(PROD, Map.of("LTC_SECRET_KEY", new SecretValues(1, PROMOTED, KEY)));
        byte[] firstLine = text(ours).lines().findFirst().orElseThrow().getBytes(StandardCharsets.UTF_8);

        assertThat(EnvFileRenderer.writtenByUs(ours)).isTrue();
        assertThat(EnvFileRenderer.writtenByUs(firstLine)).isTrue();
        assertThat(EnvFileRenderer.writtenByUs("LTC_SECRET_KEY=hand-made\n".getBytes(StandardCharsets.UTF_8)))
                .isFalse();
        assertThat(EnvFileRenderer.writtenByUs("# ltc-secrets env".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(EnvFileRenderer.writtenByUs(" # ltc-secrets env file: x".getBytes(StandardCharsets.UTF_8)))
                .isFalse();
        assertThat(EnvFileRenderer.writtenByUs(new byte[0])).isFalse();
        assertThat(EnvFileRenderer.writtenByUs(null)).isFalse();
    }

    @Test
    void sha256HexIsLowerCaseHex() {
        assertThat(EnvFileRenderer.sha256Hex("abc".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void missingOrExtraSecretValuesAreRefusedByName() {
        IllegalArgumentException missing = assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> EnvFileRenderer.render(PROD, Map.of())).actual();
        assertThat(missing.getMessage())
                .isEqualTo("secret values must match the policy: missing [LTC_SECRET_KEY], not in the policy []");

        IllegalArgumentException extra = assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> EnvFileRenderer.render(PROD, Map.of("LTC_SECRET_KEY",
                        new SecretValues(1, PROMOTED, KEY), "LTC_OTHER", new SecretValues(1, PROMOTED, KEY))))
                .actual();
        assertThat(extra.getMessage())
                .isEqualTo("secret values must match the policy: missing [], not in the policy [LTC_OTHER]");
    }

    @Test
    void aSecretValueThatWouldNeedQuotingIsRefusedWithoutShowingIt() {
        for (String bad : new String[] {"has space-7f3a9c", "quote'7f3a9c", "dollar$7f3a9c", ""}) {
            IllegalArgumentException e = assertThatExceptionOfType(IllegalArgumentException.class)
                    .isThrownBy(() -> EnvFileRenderer.render(
                            PROD, Map.of("LTC_SECRET_KEY", new SecretValues(1, PROMOTED, bad)))).actual();
            assertThat(e.getMessage()).isEqualTo(
                    "secrets.LTC_SECRET_KEY: value is empty or has characters outside [A-Za-z0-9_@%+=:,./-]");
        }
        IllegalArgumentException previous = assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> EnvFileRenderer.render(
                        PROD, Map.of("LTC_SECRET_KEY", new SecretValues(2, PROMOTED, KEY, Optional.of("p r e v-7f3a9c")))))
                .actual();
        assertThat(previous.getMessage().contains("7f3a9c")).isFalse();
    }

    @Test
    void secretValuesNeverAppearInToString() {
        SecretValues values = new SecretValues(4, PROMOTED, KEY, Optional.of(OLD_KEY));

        assertThat(values.toString())
                .isEqualTo("SecretValues[version=4, promotedAt=2026-03-06T09:00:00Z, current=<redacted>, "
                + "previous=<redacted>]");
        assertThatThrownBy(() -> new SecretValues(0, PROMOTED, KEY)).isInstanceOf(IllegalArgumentException.class);
    }

    private static String text(byte[] content) {
        return new String(content, StandardCharsets.UTF_8);
    }
}
