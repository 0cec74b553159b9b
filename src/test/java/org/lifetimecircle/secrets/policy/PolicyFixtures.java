package org.lifetimecircle.secrets.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;


import java.nio.file.Path;

/** A complete valid policy to mutate in tests, and assertions that every refusal names file, field and reason. */
final class PolicyFixtures {

    /** A static value that must never appear in an error message, whatever goes wrong around it. */
    static final String CANARY = "canary-7f3a9c-static-value";

    static final Path FILE = Path.of("policies", "environments", "prod.yaml");

    static final String FULL = """
            environment: prod
            envFile:
              path: /etc/lifetimecircle/prod.env
              mode: "0600"
              onDrift: repair
            variables:
              LTC_ENV: prod
              LTC_DB_PATH: /var/lib/lifetimecircle/data/app.db
              LTC_CANARY: canary-7f3a9c-static-value
            secrets:
              LTC_SECRET_KEY:
                length: 64
                alphabet: base64url
                rotateEvery: P90D
                warnBefore: P14D
                previousGrace: P7D
                exportPreviousAs: LTC_SECRET_KEY_PREVIOUS
                whenOverdue: flag
            app:
              restartCommand: ["systemctl", "restart", "lifetimecircle-api"]
              healthUrl: http://127.0.0.1:8000/health
              restartTimeout: PT60S
              healthTimeout: PT30S
            paths:
              data: /var/lib/lifetimecircle/data
              storage: /var/lib/lifetimecircle/storage
            """;

    private PolicyFixtures() {
    }

    /** FULL with one exact piece of text replaced; fails if the piece is not there, so no test edits nothing. */
    static String edit(String from, String to) {
        return edit(FULL, from, to);
    }

    static String edit(String yaml, String from, String to) {
        int at = yaml.indexOf(from);
        assertThat(at >= 0).as("fixture does not contain: " + from).isTrue();
        assertThat(yaml.lastIndexOf(from)).as("fixture contains more than once: " + from).isEqualTo(at);
        return yaml.substring(0, at) + to + yaml.substring(at + from.length());
    }

    static EnvironmentPolicy parse(String yaml) {
        return PolicyLoader.parse(FILE, yaml);
    }

    /** Parses {@code yaml}, expects a refusal naming {@code field} with exactly {@code reason}, and no canary. */
    static PolicyException assertRefused(String yaml, String field, String reason) {
        PolicyException e = refused(yaml, field);
        assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
        return e;
    }

    /** Like {@link #assertRefused} for reasons that carry details (line numbers, lists): checks the start. */
    static PolicyException assertRefusedStartingWith(String yaml, String field, String reasonStart) {
        PolicyException e = refused(yaml, field);
        assertThat(e.reason().startsWith(reasonStart)).as("reason was: " + e.reason()).isTrue();
        return e;
    }

    private static PolicyException refused(String yaml, String field) {
        PolicyException e = assertThatExceptionOfType(PolicyException.class).isThrownBy(() -> parse(yaml)).actual();
        assertThat(e.file()).as(e.getMessage()).isEqualTo(FILE.toString());
        assertThat(e.field()).as(e.getMessage()).isEqualTo(field);
        assertThat(e.getMessage()).isEqualTo(e.file() + ": " + e.field() + ": " + e.reason());
        assertNoCanary(e);
        return e;
    }

    static void assertNoCanary(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage()).contains(CANARY)).as("value leaked: " + t.getMessage()).isFalse();
            assertThat(String.valueOf(t.getMessage()).contains("7f3a9c"))
                    .as("part of a value leaked: " + t.getMessage()).isFalse();
        }
    }
}
