package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * Every file the service creates in its data directory is private whatever the umask it is started
 * with, and a first start killed half-way leaves no temporary file behind for good: the packaged jar,
 * started under umask 022, with {@code stat} on every file under the data directory after it has
 * written what it writes (database, WAL, master key, bootstrap token, audit archive).
 */
class DataDirFilesIT {


    @TempDir
    Path tmp;
    Path data;
    Path policies;

    @BeforeEach
    void layout() throws IOException {
        data = tmp.resolve("data");
        policies = ServiceProcess.testPolicies(tmp, "prod");
    }

    @Test
    void everyFileUnderTheDataDirIsPrivateUnderUmask022AndTemporariesOfAKilledFirstStartAreRemoved()
            throws Exception {
        // What a kill during the first start leaves: the temporaries of the master key and the token file.
        Files.createDirectory(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        List<Path> leftovers = List.of(data.resolve(".master.key.tmp-0123456789abcdef"),
                data.resolve(".bootstrap-admin.token.tmp-fedcba9876543210"));
        for (Path p : leftovers) {
            Files.writeString(p, "half-written\n");
        }
        Path foreign = data.resolve(".master.key.tmp-notours");
        Files.writeString(foreign, "not a name we create\n");

        try (ServiceProcess service = ServiceProcess.dev(tmp, data, policies, tmp.resolve("root")).umask("022")
                .log(tmp.resolve("service.log")).startHealthy(ServiceProcess.START_DEADLINE)) {
            for (Path p : leftovers) {
                assertThat(p).as("leftover of a killed first start").doesNotExist();
            }
            assertThat(foreign).as("only names the service itself creates are removed").exists();
            Files.delete(foreign);

            String token = Api.adminToken(data);
            Api.grant(service, token, "prod", "secret:rotate");
            Rotations.awaitFinished(service, token, Rotations.rotate(service, token, "prod", "LTC_SECRET_KEY"));
            Response archive = as(service, token).contentType(ContentType.JSON)
                    .body(Map.of("before", Instant.now().toString(), "reason", "file modes test"))
                    .post("/api/v1/audit/archive");
            assertThat(archive.statusCode()).as(archive.asString()).isEqualTo(200);

            Map<String, String> modes = modesUnder(data);
            System.out.println("[files] " + modes);
            assertThat(modes).containsKeys("master.key", "bootstrap-admin.token", "audit-archive");
            if (!ServiceProcess.onPostgresql(data)) {
                assertThat(modes).containsKeys("ltc-secrets.db", "ltc-secrets.db-wal", "ltc-secrets.db-shm");
            }
            assertThat(modes.keySet()).anyMatch(n -> n.startsWith("audit-archive/") && n.endsWith(".jsonl"));
            modes.forEach((name, mode) -> assertThat(mode).as(name).isIn("600", "400", "700"));
            modes.forEach((name, mode) -> assertThat(mode.equals("700"))
                    .as(name + " (only directories are 0700)").isEqualTo(Files.isDirectory(data.resolve(name),
                            LinkOption.NOFOLLOW_LINKS)));
        }
    }

    @Test
    void aDatabaseCreatedBeforeThisReleaseWithMode0644IsMadePrivateAtStart() throws Exception {
        // SQLite's files: this test keeps SQLite when the suite runs on PostgreSQL.
        try (ServiceProcess service = ServiceProcess.dev(tmp, data, policies, tmp.resolve("root")).umask("022")
                .sqliteOnly().log(tmp.resolve("first.log")).startHealthy(ServiceProcess.START_DEADLINE)) {
            assertThat(service.stop()).isIn(0, 143);
        }
        Path db = data.resolve("ltc-secrets.db");
        Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-r--r--"));
        try (ServiceProcess service = ServiceProcess.dev(tmp, data, policies, tmp.resolve("root")).umask("022")
                .sqliteOnly().log(tmp.resolve("second.log")).startHealthy(ServiceProcess.START_DEADLINE)) {
            assertThat(FileModes.stat(db)).isEqualTo("600");
            assertThat(FileModes.stat(data.resolve("ltc-secrets.db-wal"))).isEqualTo("600");
            assertThat(FileModes.stat(data.resolve("ltc-secrets.db-shm"))).isEqualTo("600");
        }
    }

    /** Path relative to {@code dir} to its mode as {@code stat} prints it, for everything under it. */
    private static Map<String, String> modesUnder(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.filter(p -> !p.equals(dir)).toList()) {
                out.put(dir.relativize(p).toString(), FileModes.stat(p));
            }
        }
        return out;
    }
}
