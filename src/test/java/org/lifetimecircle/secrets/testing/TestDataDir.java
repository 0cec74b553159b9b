package org.lifetimecircle.secrets.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Gives the test application its own data directory, file root and copy of the test policies in a
 * fresh temporary directory, so every run starts from an empty real SQLite file, or, when the run selects
 * the PostgreSQL store ({@link TestPostgres#selected()}), from a new empty database of a real server.
 */
public class TestDataDir implements QuarkusTestResourceLifecycleManager {

    private static volatile Path root;
    private static volatile int healthPort;
    /** The PostgreSQL database of the running test application, or null on SQLite. */
    private static volatile String storeUrl;

    @Override
    public Map<String, String> start() {
        try {
            root = Files.createTempDirectory("ltc-secrets-test-");
            Path policies = root.resolve("policies");
            Files.createDirectories(policies.resolve("environments"));
            healthPort = freePort();
            try (var files = Files.list(Path.of("src/test/resources/test-policies/environments"))) {
                for (Path f : files.toList()) {
                    String text = Files.readString(f).replace("@ROOT@", root.toString())
                            .replace("@HEALTH_PORT@", Integer.toString(healthPort));
                    Files.writeString(policies.resolve("environments").resolve(f.getFileName()), text);
                }
            }
            // The apptest environment's restart command; AppRestartTest rewrites it per test.
            Files.writeString(restartScript(), "exit 0\n");
            Map<String, String> config = new HashMap<>(Map.of(
                    "ltc-secrets.data-dir", dataDir().toString(),
                    "ltc-secrets.policies-dir", policies.toString(),
                    "ltc-secrets.file-root", root.resolve("root").toString(),
                    "ltc-secrets.alerts.webhook-url", "http://127.0.0.1:" + healthPort + "/alert"));
            storeUrl = null;
            if (TestPostgres.selected()) {
                config.putAll(TestPostgres.cluster().storeProperties());
                storeUrl = config.get("ltc-secrets.store.url");
            }
            return config;
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

    /** The JDBC URL of the running test application's PostgreSQL database; null when its store is SQLite. */
    public static String storeUrl() {
        return storeUrl;
    }

    /** The script the apptest environment runs as its restart command. */
    public static Path restartScript() {
        return root.resolve("restart.sh");
    }

    /** The port of the apptest environment's health URL and of the alert webhook (served by the test). */
    public static int healthPort() {
        return healthPort;
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The file root of the running test application. */
    public static Path fileRoot() {
        return root.resolve("root");
    }
}
