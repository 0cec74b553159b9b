package org.lifetimecircle.secrets.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.policy.AppPolicy;
import org.lifetimecircle.secrets.testing.Poll;

/**
 * The restart command as a real process (a shell script): what of its output reaches a step's detail,
 * which environment it sees, and that a timeout ends every process it started. No Quarkus: the
 * restarter needs none.
 */
class AppRestarterTest {

    private static final String KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    @TempDir
    Path tmp;

    private AppPolicy app(String script, Duration timeout) throws IOException {
        Path file = tmp.resolve("restart.sh");
        Files.writeString(file, script + "\n", StandardCharsets.US_ASCII);
        // The health URL is never asked here.
        return new AppPolicy(List.of("/bin/sh", file.toString()), URI.create("http://127.0.0.1:9/health"), timeout,
                Duration.ofSeconds(1));
    }

    private static String secret() {
        SecureRandom random = new SecureRandom();
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            s.append(KEY_CHARS.charAt(random.nextInt(KEY_CHARS.length())));
        }
        return s.toString();
    }

    /** Every piece of {@code secret} of {@code length} characters, for "no fragment leaked" checks. */
    private static void assertNoPieceOf(String secret, int length, String detail) {
        for (int i = 0; i + length <= secret.length(); i++) {
            assertThat(detail).as("detail must not hold secret[" + i + ".." + (i + length) + "]")
                    .doesNotContain(secret.substring(i, i + length));
        }
    }

    @Test
    void aFailedRestartIsJournaledUnderItsOccasionsNamesAndItsHealthCheckSkippedButAfterARollback() throws Exception {
        AppPolicy failing = app("exit 3", Duration.ofSeconds(20));
        for (AppRestarter.Occasion occasion : AppRestarter.Occasion.values()) {
            StageSteps steps = new StageSteps(java.time.Clock.systemUTC());
            AppRestarter.Outcome out = new AppRestarter().restartAndCheck(failing, occasion, steps);
            assertThat(out.ok()).isFalse();
            assertThat(out.detail()).startsWith("exit 3");
            List<String> journaled = steps.steps().stream().map(s -> s.name() + " " + s.status()).toList();
            switch (occasion) {
                case ROTATION -> assertThat(journaled).containsExactly("restart FAILED", "health-check SKIPPED");
                case RECOVERY -> assertThat(journaled).containsExactly("restart-after-recovery FAILED",
                        "health-check-after-recovery SKIPPED");
                // A rollback's journal never had the skipped check; it stays as it was.
                case ROLLBACK -> assertThat(journaled).containsExactly("restart-after-rollback FAILED");
            }
            assertThat(steps.firstFailed()).isPresent();
        }
    }

    @Test
    void aSecretPrintedAcrossTheOutputLimitLeavesNoFragment() throws Exception {
        String secret = secret();
        // 2040 characters of harmless output ("a a a …"), then the secret: the 2048-byte cut falls inside it.
        AppRestarter.Outcome out = new AppRestarter().restart(app(
                "i=0; while [ $i -lt 1020 ]; do printf 'a '; i=$((i+1)); done; printf '%s\\n' '" + secret + "'; exit 1",
                Duration.ofSeconds(20)));
        assertThat(out.ok()).isFalse();
        assertThat(out.detail()).startsWith("exit 1; output: a a a");
        assertNoPieceOf(secret, 6, out.detail());
    }

    @Test
    void aSecretSplitAcrossLinesIsRemovedWhole() throws Exception {
        String secret = secret();
        // As a wrapping tool prints it: 16 characters a line, each line shorter than what counts as key-like.
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < secret.length(); i += 16) {
            lines.append(secret, i, i + 16).append('\n');
        }
        AppRestarter.Outcome out = new AppRestarter().restart(app("echo 'restarting the app'\nprintf '%s' '"
                + lines + "'\necho 'LTC_SECRET_KEY=" + secret.substring(0, 30) + "\r\n" + secret.substring(30)
                + "'\necho 'finished, all good'", Duration.ofSeconds(20)));
        assertThat(out.ok()).isTrue();
        // The last word before the value ("app") ends its line, so it goes with the value: removing a little
        // too much is the price of never showing a piece of it.
        assertThat(out.detail()).isEqualTo("exit 0; output: restarting the <removed>, all good");
        assertNoPieceOf(secret, 6, out.detail());
    }

    @Test
    void ordinaryOutputIsKeptAndLongTokensAreRemoved() throws Exception {
        AppRestarter.Outcome out = new AppRestarter().restart(app("echo 'Restarting   lifetimecircle-api now'\n"
                + "echo 'token ltcs_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ok'\nexit 3",
                Duration.ofSeconds(20)));
        assertThat(out.detail()).isEqualTo("exit 3; output: Restarting lifetimecircle-api now token <removed> ok");
    }

    @Test
    void theCommandSeesOnlyPathAndLangNotTheServiceEnvironment() throws Exception {
        Path dump = tmp.resolve("env.txt");
        Map<String, String> service = new LinkedHashMap<>();
        service.put("PATH", System.getenv("PATH"));
        service.put("LANG", "C.UTF-8");
        // What systemd gives the service: where its master key is, its configuration, its own paths.
        service.put("CREDENTIALS_DIRECTORY", "/run/credentials/ltc-secrets.service");
        service.put("LTC_SECRETS_DATA_DIR", "/var/lib/ltc-secrets");
        service.put("LTC_SECRETS_MASTER_KEY_FILE", "/run/credentials/ltc-secrets.service/master.key");
        service.put("INVOCATION_ID", "0123456789abcdef");
        service.put("HOME", "/var/lib/ltc-secrets");
        AppRestarter.Outcome out = new AppRestarter(service).restart(app("env > '" + dump + "'", Duration.ofSeconds(20)));
        assertThat(out.ok()).as(out.detail()).isTrue();
        Map<String, String> seen = new LinkedHashMap<>();
        for (String line : Files.readAllLines(dump)) {
            int eq = line.indexOf('=');
            seen.put(line.substring(0, eq), line.substring(eq + 1));
        }
        // The shell adds PWD (and some shells SHLVL and _) itself.
        seen.keySet().removeAll(List.of("PWD", "SHLVL", "_", "OLDPWD"));
        assertThat(seen).containsOnlyKeys("PATH", "LANG")
                .containsEntry("PATH", System.getenv("PATH")).containsEntry("LANG", "C.UTF-8");
    }

    @Test
    void theRealServiceEnvironmentIsNotPassedOnEither() throws Exception {
        Path dump = tmp.resolve("env.txt");
        AppRestarter.Outcome out = new AppRestarter().restart(app("env > '" + dump + "'", Duration.ofSeconds(20)));
        assertThat(out.ok()).as(out.detail()).isTrue();
        List<String> names = Files.readAllLines(dump).stream().map(l -> l.substring(0, l.indexOf('='))).toList();
        // This JVM (the service here) has HOME, JAVA_HOME, MAVEN_* …: none of it reaches the command.
        assertThat(System.getenv()).containsKey("HOME");
        assertThat(names).doesNotContain("HOME", "JAVA_HOME", "USER", "CREDENTIALS_DIRECTORY")
                .allMatch(n -> List.of("PATH", "LANG", "PWD", "SHLVL", "_", "OLDPWD").contains(n));
    }

    @Test
    void aTimeoutKillsEveryProcessTheCommandStartedEvenOnesThatLeftItsTree() throws Exception {
        Path pids = tmp.resolve("pids");
        // A child that ignores hangups and terminations, started by a subshell that exits at once: the
        // child is re-parented away from the restart command (no longer its descendant) but stays in its
        // process group. Then the command itself hangs past its timeout.
        String script = "( trap '' HUP TERM INT; sleep 120 & echo $! >> '" + pids + "' )\n"
                + "echo $$ >> '" + pids + "'\n"
                + "exec sleep 120";
        Instant started = Instant.now();
        AppRestarter.Outcome out = new AppRestarter().restart(app(script, Duration.ofSeconds(2)));
        assertThat(out.ok()).isFalse();
        assertThat(out.detail()).contains("timed out after PT2S");
        assertThat(Duration.between(started, Instant.now())).as("the restart did not wait for the orphan")
                .isLessThan(Duration.ofSeconds(60));
        List<Long> all = Files.readAllLines(pids).stream().map(String::trim).map(Long::parseLong).toList();
        assertThat(all).hasSize(2);
        for (long pid : all) {
            try {
                Poll.atMost(Duration.ofSeconds(10)).until(() -> !running(pid));
            } catch (ConditionTimeoutException e) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // do not leak it past the test
                throw new AssertionError("process " + pid + " of the restart command survived its timeout", e);
            }
        }
    }

    /** Alive and not a zombie (a killed orphan stays a zombie until whoever adopted it reaps it). */
    private static boolean running(long pid) throws IOException {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
            return !Arrays.asList("Z", "X", "x").contains(state);
        } catch (NoSuchFileException gone) {
            return false;
        }
    }
}
