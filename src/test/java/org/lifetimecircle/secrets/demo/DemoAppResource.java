package org.lifetimecircle.secrets.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The test app set up as {@code ./mvnw quarkus:dev} runs: the shipped {@code policies/} (their app sections
 * restart systemd units) with the dev profile's app overrides pointing at the real {@code demo-app/}, each
 * environment on a free port. Data dir and file root are TestDataDir's temporary ones.
 */
public class DemoAppResource extends TestDataDir {

    static volatile Path stateDir;
    static final Map<String, Integer> PORTS = new HashMap<>();

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        try {
            Path policies = TestDataDir.dataDir().resolveSibling("shipped-policies");
            Files.createDirectories(policies.resolve("environments"));
            for (String env : new String[] {"prod", "staging"}) {
                Files.copy(Path.of("policies/environments/" + env + ".yaml"),
                        policies.resolve("environments/" + env + ".yaml"));
            }
            stateDir = TestDataDir.dataDir().resolveSibling("demo-app");
            config.put("ltc-secrets.policies-dir", policies.toString());
            String script = Path.of("demo-app/restart.sh").toAbsolutePath().toString();
            for (String env : new String[] {"prod", "staging"}) {
                int port = freePort();
                PORTS.put(env, port);
                Path envFile = TestDataDir.fileRoot().resolve("etc/lifetimecircle/" + env + ".env");
                config.put("ltc-secrets.app-override." + env + ".restart-command",
                        String.join(",", script, envFile.toString(), Integer.toString(port), stateDir.toString()));
                config.put("ltc-secrets.app-override." + env + ".health-url", "http://127.0.0.1:" + port + "/health");
            }
            return config;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        // The demo apps outlive their restart command by design; stop what the rotations started.
        for (String env : PORTS.keySet()) {
            Path pidFile = stateDir.resolve(env + ".pid");
            try {
                if (Files.exists(pidFile)) {
                    ProcessHandle.of(Long.parseLong(Files.readString(pidFile).trim())).ifPresent(ProcessHandle::destroy);
                }
            } catch (IOException | NumberFormatException e) {
                // nothing left to stop
            }
        }
        super.stop();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
