package org.lifetimecircle.secrets.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Gives the test application its own data directory, file root and copy of the test policies in a
 * fresh temporary directory, so every run starts from an empty real SQLite file.
 */
public class TestDataDir implements QuarkusTestResourceLifecycleManager {

    private static volatile Path root;

    @Override
    public Map<String, String> start() {
        try {
            root = Files.createTempDirectory("ltc-secrets-test-");
            Path policies = root.resolve("policies");
            Files.createDirectories(policies.resolve("environments"));
            try (var files = Files.list(Path.of("src/test/resources/test-policies/environments"))) {
                for (Path f : files.toList()) {
                    Files.copy(f, policies.resolve("environments").resolve(f.getFileName()));
                }
            }
            return Map.of(
                    "ltc-secrets.data-dir", dataDir().toString(),
                    "ltc-secrets.policies-dir", policies.toString(),
                    "ltc-secrets.file-root", root.resolve("root").toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        // The directory is left for inspection after a failure; it lives under the system temp dir.
    }

    /** The data directory of the running test application. */
    public static Path dataDir() {
        return root.resolve("data");
    }

    /** The file root of the running test application. */
    public static Path fileRoot() {
        return root.resolve("root");
    }
}
