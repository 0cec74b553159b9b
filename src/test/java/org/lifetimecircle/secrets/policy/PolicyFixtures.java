package org.lifetimecircle.secrets.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertTrue(at >= 0, "fixture does not contain: " + from);
        assertEquals(at, yaml.lastIndexOf(from), "fixture contains more than once: " + from);
        return yaml.substring(0, at) + to + yaml.substring(at + from.length());
    }

    static EnvironmentPolicy parse(String yaml) {
        return PolicyLoader.parse(FILE, yaml);
    }

    /** Parses {@code yaml}, expects a refusal naming {@code field} with exactly {@code reason}, and no canary. */
    static PolicyException assertRefused(String yaml, String field, String reason) {
        PolicyException e = refused(yaml, field);
        assertEquals(reason, e.reason(), e.getMessage());
        return e;
    }

    /** Like {@link #assertRefused} for reasons that carry details (line numbers, lists): checks the start. */
    static PolicyException assertRefusedStartingWith(String yaml, String field, String reasonStart) {
        PolicyException e = refused(yaml, field);
        assertTrue(e.reason().startsWith(reasonStart), "reason was: " + e.reason());
        return e;
    }

    private static PolicyException refused(String yaml, String field) {
        PolicyException e = assertThrows(PolicyException.class, () -> parse(yaml));
        assertEquals(FILE.toString(), e.file(), e.getMessage());
        assertEquals(field, e.field(), e.getMessage());
        assertEquals(e.file() + ": " + e.field() + ": " + e.reason(), e.getMessage());
        assertNoCanary(e);
        return e;
    }

    static void assertNoCanary(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertFalse(String.valueOf(t.getMessage()).contains(CANARY), "value leaked: " + t.getMessage());
            assertFalse(String.valueOf(t.getMessage()).contains("7f3a9c"), "part of a value leaked: " + t.getMessage());
        }
    }
}
