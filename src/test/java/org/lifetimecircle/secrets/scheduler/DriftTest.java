package org.lifetimecircle.secrets.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lifetimecircle.secrets.envfile.EnvFileSync;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Env files changed behind the service's back, each way (chmod 0644, an edited value, the file
 * replaced by a symlink) under each {@code onDrift} (flag, repair, emergency): detected by one
 * scheduler run, audited once, and handled as the policy says, with real files and real modes.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class DriftTest {

    @Inject
    Housekeeping scheduler;

    @Inject
    EnvFileSync files;

    @Inject
    EnvironmentRegistry environments;

    private static Path envFile(String env) {
        return TestDataDir.fileRoot().resolve("etc/lifetimecircle/" + env + ".env");
    }

    /** The file as this service wrote it, and the drift record clear: the start of each case. */
    private void asWritten(String env) {
        Rotations.awaitIdle(adminToken(), env);
        files.repair(environments.require(env), "test baseline", "drift-test");
        scheduler.run(TestClock.now());
        assertThat(detail(env).getString("envFile.drift")).isNull();
    }

    private static void tamper(String env, String how) throws Exception {
        Path file = envFile(env);
        switch (how) {
            case "chmod" -> Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            case "edit" -> Files.writeString(file, Files.readString(file)
                    .replaceAll("(?m)^LTC_SECRET_KEY=.*$", "LTC_SECRET_KEY=chosen-by-an-intruder-0123456789abcdef"));
            case "symlink" -> {
                Path elsewhere = file.resolveSibling("elsewhere-" + env + ".env");
                Files.writeString(elsewhere, "LTC_SECRET_KEY=the-link-target-0123456789abcdef0123\n");
                Files.delete(file);
                Files.createSymbolicLink(file, elsewhere);
            }
            default -> throw new IllegalArgumentException(how);
        }
    }

    private static String expectedProblem(String how) {
        return switch (how) {
            case "chmod" -> "has mode 0644, expected 0600";
            case "edit" -> "different content";
            case "symlink" -> "is a symbolic link";
            default -> throw new IllegalArgumentException(how);
        };
    }

    @ParameterizedTest(name = "{0} under onDrift: flag")
    @CsvSource({"chmod", "edit", "symlink"})
    void flagReportsOnceAndLeavesTheFile(String how) throws Exception {
        String env = "drift-flag";
        asWritten(env);
        long from = SchedulerTest.headSeq();
        tamper(env, how);
        String tampered = Files.isSymbolicLink(envFile(env)) ? "link" : Files.readString(envFile(env))
                + FileModes.stat(envFile(env));

        scheduler.run(TestClock.now());
        scheduler.run(TestClock.now());

        List<Map<String, Object>> drift = SchedulerTest.eventRows(from, env, "envfile.drift");
        assertThat(drift).hasSize(1);
        assertThat(drift.get(0).get("actor")).isEqualTo("scheduler");
        assertThat((String) drift.get(0).get("details")).contains(expectedProblem(how), "\"onDrift\":\"flag\"");
        assertThat(detail(env).getString("envFile.drift")).contains(expectedProblem(how));
        assertThat(SchedulerTest.metric("ltc_envfile_drift{environment=\"" + env + "\"}")).isEqualTo(1.0);
        // Left exactly as it was: flag only reports.
        assertThat(Files.isSymbolicLink(envFile(env)) ? "link" : Files.readString(envFile(env))
                + FileModes.stat(envFile(env))).isEqualTo(tampered);
        assertThat(SchedulerTest.events(from, env, "envfile.write")).isEmpty();
    }

    @Test
    void aFlaggedDriftThatIsUndoneIsResolved() throws Exception {
        String env = "drift-flag";
        asWritten(env);
        long from = SchedulerTest.headSeq();
        tamper(env, "chmod");
        scheduler.run(TestClock.now());
        Files.setPosixFilePermissions(envFile(env), PosixFilePermissions.fromString("rw-------"));
        scheduler.run(TestClock.now());
        scheduler.run(TestClock.now());
        assertThat(SchedulerTest.events(from, env, "envfile.drift")).containsExactly("envfile.drift",
                "envfile.drift-resolved");
        assertThat(detail(env).getString("envFile.drift")).isNull();
        assertThat(SchedulerTest.metric("ltc_envfile_drift{environment=\"" + env + "\"}")).isEqualTo(0.0);
    }

    @ParameterizedTest(name = "{0} under onDrift: repair")
    @CsvSource({"chmod", "edit", "symlink"})
    void repairRewritesTheFileFromCurrent(String how) throws Exception {
        String env = "drift-repair";
        asWritten(env);
        String fingerprint = detail(env).getString("envFile.fingerprint");
        byte[] written = Files.readAllBytes(envFile(env));
        Path elsewhere = envFile(env).resolveSibling("elsewhere-" + env + ".env");
        long from = SchedulerTest.headSeq();
        tamper(env, how);
        String linkTarget = how.equals("symlink") ? Files.readString(elsewhere) : null;

        scheduler.run(TestClock.now());
        scheduler.run(TestClock.now());

        assertThat(SchedulerTest.events(from, env, "envfile.")).containsExactly("envfile.drift", "envfile.write");
        assertThat((String) SchedulerTest.eventRows(from, env, "envfile.write").get(0).get("details"))
                .contains("onDrift: repair", expectedProblem(how));
        Path file = envFile(env);
        assertThat(Files.isSymbolicLink(file)).isFalse();
        assertThat(Files.isRegularFile(file)).isTrue();
        assertThat(FileModes.stat(file)).isEqualTo("600");
        assertThat(Files.readAllBytes(file)).isEqualTo(written);
        assertThat(detail(env).getString("envFile.fingerprint")).isEqualTo(fingerprint);
        assertThat(detail(env).getString("envFile.drift")).isNull();
        if (linkTarget != null) {
            // The link was replaced, never written through.
            assertThat(Files.readString(elsewhere)).isEqualTo(linkTarget);
        }
    }

    @ParameterizedTest(name = "{0} under onDrift: emergency")
    @CsvSource({"chmod", "edit", "symlink"})
    void emergencyRotatesEverySecretOfTheEnvironment(String how) throws Exception {
        String env = "drift-emergency";
        asWritten(env);
        long before = detail(env).getLong("secrets[0].currentVersion");
        String fingerprint = detail(env).getString("envFile.fingerprint");
        long from = SchedulerTest.headSeq();
        tamper(env, how);

        scheduler.run(TestClock.now());

        List<Object> ids = as(adminToken()).queryParam("environment", env).queryParam("kind", "EMERGENCY")
                .get("/api/v1/rotations").then().statusCode(200).extract().jsonPath().getList("id");
        JsonPath emergency = Rotations.awaitFinished(adminToken(), (String) ids.get(0));
        assertThat(emergency.getString("status")).isEqualTo("COMPLETED");
        assertThat(emergency.getString("requestedBy")).isEqualTo("scheduler");
        assertThat(emergency.getString("reason")).contains("onDrift: emergency", expectedProblem(how));
        scheduler.run(TestClock.now());

        assertThat(SchedulerTest.events(from, env, "envfile.drift")).containsExactly("envfile.drift");
        assertThat(detail(env).getLong("secrets[0].currentVersion")).isGreaterThan(before);
        Path file = envFile(env);
        assertThat(Files.isSymbolicLink(file)).isFalse();
        assertThat(FileModes.stat(file)).isEqualTo("600");
        // The new file is what was recorded: the run after the emergency found no drift (below).
        assertThat(detail(env).getString("envFile.fingerprint")).matches("hmac-sha256:[0-9a-f]{64}")
                .isNotEqualTo(fingerprint);
        assertThat(detail(env).getString("envFile.drift")).isNull();
    }

    private static JsonPath detail(String env) {
        return as(adminToken()).get("/api/v1/environments/" + env).then().statusCode(200).extract().jsonPath();
    }
}
