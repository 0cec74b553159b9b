package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * A first start is the first thing a new user sees: it must log no ERROR and no WARN (nothing the
 * user could act on happened). Issue 17: dev mode printed two ERRORs and a page of CREATE TABLE
 * from Hibernate's schema check, which ran before StartupSequence's Flyway migration.
 */
class FirstStartIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    // The console format: "<time> <LEVEL> [category] ..."; and the JVM's own "WARNING: ..." lines on stderr.
    private static final Pattern ERROR_OR_WARN = Pattern.compile("^(\\S+\\s+(ERROR|WARN)\\s|WARNING:).*");

    @TempDir
    Path tmp;

    @Test
    void theProdProfileStartsOnAnEmptyDataDirWithoutErrorOrWarning() throws Exception {
        Path credentials = tmp.resolve("credentials");
        Files.createDirectory(credentials, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path key = credentials.resolve("master.key");
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        Files.writeString(key, Base64.getEncoder().encodeToString(bytes) + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("r--------"));
        Path policies = tmp.resolve("policies");
        copyTree(Path.of("policies"), policies);
        try (ServiceProcess service = ServiceProcess.builder().profile("prod")
                .env("CREDENTIALS_DIRECTORY", credentials.toString())
                .property("ltc-secrets.data-dir", tmp.resolve("state").toString())
                .property("ltc-secrets.policies-dir", policies.toString())
                .property("ltc-secrets.file-root", tmp.resolve("root").toString())
                .startHealthy(START_DEADLINE)) {
            assertFirstStartIsQuiet(service);
        }
    }

    @Test
    void theDevProfileStartsOnItsEmbeddedDefaultsWithoutErrorOrWarning() throws Exception {
        // As a fresh clone runs it: ./policies, ./data (created now), no -D overrides.
        copyTree(Path.of("policies"), tmp.resolve("policies"));
        try (ServiceProcess service = ServiceProcess.builder().profile("dev").workingDir(tmp)
                .startHealthy(START_DEADLINE)) {
            assertFirstStartIsQuiet(service);
        }
    }

    private static void assertFirstStartIsQuiet(ServiceProcess service) {
        String log = service.output();
        assertThat(log).contains("created principal bootstrap-admin").contains("ltc-secrets ready");
        List<String> noisy = log.lines().filter(l -> ERROR_OR_WARN.matcher(l).matches()).toList();
        assertThat(noisy).as("ERROR or WARN lines on a first start:\n" + log).isEmpty();
        assertThat(log).doesNotContainIgnoringCase("create table");
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : paths.sorted(Comparator.naturalOrder()).toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
