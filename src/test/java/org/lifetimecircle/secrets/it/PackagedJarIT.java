package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.as;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * Black-box tests of the packaged jar in the prod profile: the real start-up path, real file
 * modes, real refusals. Each test runs the service as its own process on a fresh directory.
 */
class PackagedJarIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path tmp;
    Path data;
    Path credentials;
    Path policies;

    @BeforeEach
    void layout() throws IOException {
        data = tmp.resolve("state");
        credentials = tmp.resolve("credentials");
        Files.createDirectory(credentials, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        policies = tmp.resolve("policies");
        copyTree(Path.of("policies"), policies);
    }

    @Test
    void prodStartsOnAFreshDataDirAndWritesAPrivateBootstrapToken() throws Exception {
        writeKey(credentials.resolve("master.key"), "r--------");
        try (ServiceProcess service = prod().start()) {
            Duration ready = service.awaitHealthy(START_DEADLINE);
            long rss = service.rssKib();
            System.out.printf("[measure] prod start to healthy: %d ms, RSS at ready: %d MiB%n", ready.toMillis(), rss / 1024);

            assertThat(FileModes.stat(data)).isEqualTo("700");
            Path tokenFile = data.resolve("bootstrap-admin.token");
            assertThat(FileModes.stat(tokenFile)).isEqualTo("600");
            String token = Files.readString(tokenFile).trim();
            assertThat(as(service, token).get("/api/v1/principals").statusCode()).isEqualTo(200);
            assertThat(service.get("/api/v1/principals").orElseThrow().statusCode()).isEqualTo(401);
            // In prod the key comes from the credentials directory and is never created beside the data.
            assertThat(data.resolve("master.key")).doesNotExist();
            assertThat(service.output()).contains("bootstrap-admin.token").doesNotContain(token)
                    .doesNotContain(token.substring(22));
            // SIGTERM: Quarkus shuts down cleanly and the JVM reports 143 (the unit's SuccessExitStatus).
            assertThat(service.stop()).isIn(0, 143);
        }
    }

    @Test
    void prodRefusesAMissingMasterKey() {
        try (ServiceProcess service = prod().start()) {
            assertThat(service.awaitExit(START_DEADLINE)).isNotZero();
            assertThat(service.output()).contains("refused to start").contains("master.key").contains("does not exist");
            assertThat(data.resolve("bootstrap-admin.token")).doesNotExist();
        }
    }

    @Test
    void prodRefusesAMasterKeyReadableByOthers() throws Exception {
        writeKey(credentials.resolve("master.key"), "rw-r--r--");
        try (ServiceProcess service = prod().start()) {
            assertThat(service.awaitExit(START_DEADLINE)).isNotZero();
            assertThat(service.output()).contains("refused to start").contains("0644").contains("chmod");
            assertThat(data.resolve("bootstrap-admin.token")).doesNotExist();
        }
    }

    @Test
    void prodRefusesAMasterKeyThatIsNotBase64OfThirtyTwoBytes() throws Exception {
        Path key = credentials.resolve("master.key");
        String canary = "not-a-key-canary-31337";
        Files.writeString(key, canary + "\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("r--------"));
        try (ServiceProcess service = prod().start()) {
            assertThat(service.awaitExit(START_DEADLINE)).isNotZero();
            assertThat(service.output()).contains("refused to start").contains("master.key").doesNotContain(canary);
        }
    }

    @Test
    void anInvalidPolicyStopsTheStartNamingFileFieldAndReason() throws Exception {
        writeKey(credentials.resolve("master.key"), "r--------");
        Path prod = policies.resolve("environments/prod.yaml");
        Files.writeString(prod, Files.readString(prod).replace("\"0600\"", "\"0644\""));
        try (ServiceProcess service = prod().start()) {
            assertThat(service.awaitExit(START_DEADLINE)).isNotZero();
            assertThat(service.output()).contains("refused to start").contains("prod.yaml").contains("envFile.mode");
        }
    }

    @Test
    void aRecoveryRequestReissuesTheBootstrapTokenAndRevokesTheOldOne() throws Exception {
        writeKey(credentials.resolve("master.key"), "r--------");
        Path tokenFile = data.resolve("bootstrap-admin.token");
        String first;
        try (ServiceProcess service = prod().start()) {
            service.awaitHealthy(START_DEADLINE);
            first = Files.readString(tokenFile).trim();
            service.stop();
        }
        Files.delete(tokenFile); // "every admin token is lost"
        Path request = data.resolve("bootstrap-admin.request");
        Files.createFile(request);
        try (ServiceProcess service = prod().start()) {
            service.awaitHealthy(START_DEADLINE);
            String second = Files.readString(tokenFile).trim();
            assertThat(second).isNotEqualTo(first);
            assertThat(FileModes.stat(tokenFile)).isEqualTo("600");
            assertThat(request).doesNotExist();
            assertThat(as(service, first).get("/api/v1/principals").statusCode()).isEqualTo(401);
            assertThat(as(service, second).get("/api/v1/principals").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void devProfileRunsOnItsEmbeddedDefaults() throws Exception {
        // No overrides at all, as `./mvnw quarkus:dev` runs it: ./data, ./policies, ./data/root.
        try (ServiceProcess service = ServiceProcess.builder().profile("dev").workingDir(tmp).sqliteOnly()
                .start()) {
            service.awaitHealthy(START_DEADLINE);
            Path devData = tmp.resolve("data");
            assertThat(FileModes.stat(devData)).isEqualTo("700");
            assertThat(FileModes.stat(devData.resolve("master.key"))).isEqualTo("400");
            assertThat(Files.readString(devData.resolve("master.key"))).matches("[A-Za-z0-9+/]{43}=\n");
            assertThat(devData.resolve("ltc-secrets.db")).exists();
            String token = Files.readString(devData.resolve("bootstrap-admin.token")).trim();
            assertThat(as(service, token).get("/api/v1/environments").asString()).contains("\"prod\"", "\"staging\"");
        }
    }

    private ServiceProcess.Builder prod() {
        return ServiceProcess.builder()
                .profile("prod")
                .env("CREDENTIALS_DIRECTORY", credentials.toString())
                .jvmFlag("-Xmx96m")
                .property("ltc-secrets.data-dir", data.toString())
                .property("ltc-secrets.policies-dir", policies.toString())
                .property("ltc-secrets.file-root", tmp.resolve("root").toString());
    }

    private static void writeKey(Path file, String mode) throws IOException {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
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
