package org.lifetimecircle.secrets.envfile;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.PolicyLoader;
import org.lifetimecircle.secrets.testing.ClassNames;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * An env file that cannot be inspected is reported (drift details, alerts, preflight) with the OS's
 * reason in words, never an exception class. A regular file where a directory belongs gives a real
 * "Not a directory" even to root.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class InspectionReasonsTest {

    @Inject
    EnvFileService files;

    @Test
    void anUninspectableEnvFileIsDescribedInWords() throws Exception {
        Path notADirectory = TestDataDir.fileRoot().resolve("etc/lifetimecircle/not-a-directory");
        Files.createDirectories(notADirectory.getParent());
        Files.writeString(notADirectory, "a file, not a directory\n");
        EnvironmentPolicy policy = PolicyLoader.parse(Path.of("policies/environments/uninspectable.yaml"), """
                environment: uninspectable
                envFile:
                  path: /etc/lifetimecircle/not-a-directory/uninspectable.env
                  mode: "0600"
                variables:
                  LTC_ENV: uninspectable
                secrets:
                  LTC_SECRET_KEY:
                    rotateEvery: P90D
                """);

        String problem = files.problemWith(policy, "00".repeat(32), 1);
        String permissions = files.permissionProblem(policy);
        String observed = files.observed(policy);

        assertThat(problem).isEqualTo("cannot be inspected: Not a directory");
        assertThat(permissions).isEqualTo("cannot be inspected: Not a directory");
        assertThat(observed).isEqualTo("uninspectable: Not a directory");
        for (String text : new String[] {problem, permissions, observed}) {
            assertThat(ClassNames.PATTERN.matcher(text).find()).as(text).isFalse();
        }
    }
}
