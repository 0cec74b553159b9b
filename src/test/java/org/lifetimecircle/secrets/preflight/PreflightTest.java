package org.lifetimecircle.secrets.preflight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.AsRoot;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.StubApp;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The go-live preflight against real directories, owners, modes, a real health endpoint and the
 * real audit chain: a properly set-up environment passes every check, and each FAIL condition is
 * produced for real and reported by the check it belongs to (and only blocks {@code go}).
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class PreflightTest {

    private static final List<String> NAMES = List.of("secrets-present", "env-file-present", "env-file-permissions",
            "env-file-current", "ltc-env", "data-path", "storage-path", "db-path", "not-overdue", "app-health",
            "audit-chain");
    /** The app's user, made up for the file root's etc/passwd: not the uid the tests run as. */
    private static final int APP_UID = 4321;
    private static AtomicInteger HEALTH;
    private static StubApp app;

    @BeforeAll
    static void hostLikeGoLive() throws Exception {
        app = StubApp.start();
        HEALTH = app.health;
        Path etc = TestDataDir.fileRoot().resolve("etc");
        Files.createDirectories(etc);
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/bash\n"
                + "preflight-app:x:" + APP_UID + ":" + APP_UID + "::/nonexistent:/usr/sbin/nologin\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\npreflight-app:x:" + APP_UID + ":\n"
                + "shared:x:5000:preflight-app\n");
    }

    @AfterAll
    static void stopApp() {
        app.close();
    }

    @BeforeEach
    void goLiveState() throws Exception {
        AsRoot.assume("giving directories to the app's user");
        HEALTH.set(200);
        for (String dir : List.of("data", "storage")) {
            Path p = root("/var/lib/preflight/" + dir);
            if (Files.isSymbolicLink(p)) {
                Files.delete(p);
            }
            Files.createDirectories(p);
            chown(p, APP_UID, APP_UID);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-x---"));
        }
        // A fresh file as the service writes it (at its mode, current), unless someone else's is there.
        writeEnvFile("preflight");
    }

    @Test
    void aProperlySetUpEnvironmentPassesEveryCheck() {
        JsonPath r = preflight("preflight");
        assertThat(r.getString("environment")).isEqualTo("preflight");
        assertThat(r.getList("checks.name")).containsExactlyElementsOf(NAMES);
        assertThat(r.getList("checks.status")).as(r.prettify()).containsOnly("PASS");
        assertThat(r.getBoolean("go")).isTrue();
        assertThat(detail(r, "data-path")).contains("writable by preflight-app");
    }

    @Test
    void whatDoesNotApplyIsAWarningWithItsReasonAndDoesNotBlockGo() {
        JsonPath r = preflight("preflight-min");
        assertThat(status(r, "app-health")).isEqualTo("WARN");
        assertThat(detail(r, "app-health")).contains("no app section");
        assertThat(status(r, "data-path")).isEqualTo("WARN");
        assertThat(status(r, "db-path")).isEqualTo("WARN");
        assertThat(r.getList("checks.status")).doesNotContain("FAIL");
        assertThat(r.getBoolean("go")).isTrue();
    }

    @Test
    void aMissingEnvFileFails() throws Exception {
        Files.delete(root("/etc/lifetimecircle/preflight.env"));
        JsonPath r = preflight("preflight");
        assertThat(status(r, "env-file-present")).isEqualTo("FAIL");
        assertThat(detail(r, "env-file-present")).contains("is missing", "env-file/write");
        assertThat(r.getBoolean("go")).isFalse();
    }

    @Test
    void anEnvFileAtAnotherModeFailsOnlyThePermissionCheck() throws Exception {
        Files.setPosixFilePermissions(root("/etc/lifetimecircle/preflight.env"), PosixFilePermissions.fromString("rw-r--r--"));
        JsonPath r = preflight("preflight");
        assertThat(status(r, "env-file-permissions")).isEqualTo("FAIL");
        assertThat(detail(r, "env-file-permissions")).contains("has mode 0644, expected 0600");
        assertThat(status(r, "env-file-present")).isEqualTo("PASS");
        assertThat(status(r, "env-file-current")).isEqualTo("PASS");
        assertThat(r.getBoolean("go")).isFalse();
    }

    @Test
    void anEditedEnvFileIsNotCurrent() throws Exception {
        Path file = root("/etc/lifetimecircle/preflight.env");
        Files.writeString(file, Files.readString(file).replaceAll("(?m)^LTC_SECRET_KEY=.*$",
                "LTC_SECRET_KEY=typed-in-by-hand-0123456789abcdef0123"));
        JsonPath r = preflight("preflight");
        assertThat(status(r, "env-file-current")).isEqualTo("FAIL");
        assertThat(detail(r, "env-file-current")).contains("differs from the CURRENT versions");
        assertThat(r.getBoolean("go")).isFalse();
    }

    @Test
    void aDataPathTheAppCannotWriteFailsAndGroupWriteAccessPasses() throws Exception {
        Path data = root("/var/lib/preflight/data");
        chown(data, 0, 0);
        JsonPath r = preflight("preflight");
        assertThat(status(r, "data-path")).isEqualTo("FAIL");
        assertThat(detail(r, "data-path")).contains("not writable by preflight-app", "neither its owner nor in its group");

        // The other way round: root-owned, but group-writable for a group the user is a member of.
        chown(data, 0, 5000);
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxrwx---"));
        assertThat(status(preflight("preflight"), "data-path")).isEqualTo("PASS");
        // Group-readable only is not enough.
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-x---"));
        assertThat(status(preflight("preflight"), "data-path")).isEqualTo("FAIL");
    }

    @Test
    void aMissingStoragePathFails() throws Exception {
        Files.delete(root("/var/lib/preflight/storage"));
        JsonPath r = preflight("preflight");
        assertThat(status(r, "storage-path")).isEqualTo("FAIL");
        assertThat(detail(r, "storage-path")).contains("/var/lib/preflight/storage does not exist");
    }

    @Test
    void aStoragePathOnTmpfsFails() throws Exception {
        Path onTmpfs = Files.createTempDirectory(Path.of("/dev/shm"), "preflight-");
        assumeTrue("tmpfs".equals(Files.getFileStore(onTmpfs).type()), "/dev/shm is a tmpfs here");
        chown(onTmpfs, APP_UID, APP_UID);
        Path storage = root("/var/lib/preflight/storage");
        Files.delete(storage);
        Files.createSymbolicLink(storage, onTmpfs);
        try {
            JsonPath r = preflight("preflight");
            assertThat(status(r, "storage-path")).isEqualTo("FAIL");
            assertThat(detail(r, "storage-path")).contains("tmpfs", "reboot");
        } finally {
            Files.delete(storage);
            Files.delete(onTmpfs);
        }
    }

    @Test
    void anAppUserThatDoesNotExistFails() throws Exception {
        Path passwd = TestDataDir.fileRoot().resolve("etc/passwd");
        String before = Files.readString(passwd);
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/bash\n");
        try {
            JsonPath r = preflight("preflight");
            assertThat(status(r, "data-path")).isEqualTo("FAIL");
            assertThat(detail(r, "data-path")).contains("preflight-app is not a local user");
        } finally {
            Files.writeString(passwd, before);
        }
    }

    @Test
    void aPathThatCannotBeInspectedSaysWhyInWordsNotAsAnExceptionClass() throws Exception {
        Path passwd = TestDataDir.fileRoot().resolve("etc/passwd");
        Path aside = passwd.resolveSibling("passwd.aside");
        Files.move(passwd, aside);
        Files.createDirectory(passwd); // reading it fails with the OS's "Is a directory"
        try {
            JsonPath r = preflight("preflight");
            assertThat(status(r, "data-path")).isEqualTo("FAIL");
            assertThat(detail(r, "data-path")).endsWith("cannot be inspected: Is a directory");
            assertThat(r.getList("checks.detail", String.class))
                    .noneMatch(d -> org.lifetimecircle.secrets.testing.ClassNames.PATTERN.matcher(d).find());
        } finally {
            Files.delete(passwd);
            Files.move(aside, passwd);
        }
    }

    @Test
    void anUnhealthyOrAbsentAppFails() {
        HEALTH.set(503);
        JsonPath r = preflight("preflight");
        assertThat(status(r, "app-health")).isEqualTo("FAIL");
        assertThat(detail(r, "app-health")).contains("answered 503");
        assertThat(r.getBoolean("go")).isFalse();
    }

    @Test
    void theWrongLtcEnvADatabaseOutsideTheDataPathAndAnOverdueKeyFail() {
        JsonPath r = preflight("preflight-bad");
        assertThat(status(r, "ltc-env")).isEqualTo("FAIL");
        assertThat(detail(r, "ltc-env")).contains("LTC_ENV is 'prod'");
        assertThat(status(r, "db-path")).isEqualTo("FAIL");
        assertThat(detail(r, "db-path")).contains("not inside paths.data");
        assertThat(status(r, "not-overdue")).isEqualTo("FAIL"); // rotateEvery PT1S
        assertThat(detail(r, "not-overdue")).contains("OVERDUE: LTC_SECRET_KEY");
        assertThat(r.getBoolean("go")).isFalse();
    }

    @Test
    void aSecretWithoutACurrentVersionFails() throws Exception {
        // Play an attacker (or a botched manual fix) with the database file.
        Db.exec("update secret_version set state = 'PENDING' where environment = 'preflight-bad' and state = 'CURRENT'");
        try {
            JsonPath r = preflight("preflight-bad");
            assertThat(status(r, "secrets-present")).isEqualTo("FAIL");
            assertThat(detail(r, "secrets-present")).contains("LTC_SECRET_KEY has no CURRENT version");
        } finally {
            Db.exec("update secret_version set state = 'CURRENT' where environment = 'preflight-bad' and state = 'PENDING'");
        }
        assertThat(status(preflight("preflight-bad"), "secrets-present")).isEqualTo("PASS");
    }

    @Test
    void aBrokenAuditChainFails() throws Exception {
        long seq = Db.queryLong("select max(seq) from audit_event") - 1;
        String actor;
        try (var c = Db.open(); var st = c.createStatement();
             var rs = st.executeQuery("select actor from audit_event where seq = " + seq)) {
            rs.next();
            actor = rs.getString(1);
        }
        Db.appendOnly(false);
        Db.exec("update audit_event set actor = 'someone-else' where seq = " + seq);
        try {
            JsonPath r = preflight("preflight");
            assertThat(status(r, "audit-chain")).isEqualTo("FAIL");
            assertThat(detail(r, "audit-chain")).contains("broken at seq " + seq);
        } finally {
            Db.exec("update audit_event set actor = '" + actor + "' where seq = " + seq);
            Db.appendOnly(true);
        }
        assertThat(status(preflight("preflight"), "audit-chain")).isEqualTo("PASS");
    }

    @Test
    void preflightNeedsMetadataReadAndAnUnknownEnvironmentIs404() {
        as(adminToken()).get("/api/v1/environments/nowhere/preflight").then().statusCode(404);
        io.restassured.RestAssured.get("/api/v1/environments/preflight/preflight").then().statusCode(401);
        as(Api.tokenFor("auditor")).get("/api/v1/environments/preflight/preflight").then().statusCode(200);
    }

    // --- helpers ---

    private static JsonPath preflight(String env) {
        return as(adminToken()).get("/api/v1/environments/" + env + "/preflight").then().statusCode(200)
                .extract().jsonPath();
    }

    private static String status(JsonPath r, String check) {
        return r.getString("checks.find { it.name == '" + check + "' }.status");
    }

    private static String detail(JsonPath r, String check) {
        return r.getString("checks.find { it.name == '" + check + "' }.detail");
    }

    private static Path root(String absolute) {
        return TestDataDir.fileRoot().resolve(absolute.substring(1));
    }

    private static void chown(Path p, int uid, int gid) throws Exception {
        Files.setAttribute(p, "unix:uid", uid);
        Files.setAttribute(p, "unix:gid", gid);
    }

    /** Writes the env file through the API, as an admin with a fresh env-file:write grant. */
    private static void writeEnvFile(String env) {
        as(adminToken()).contentType("application/json").body(Map.of("principal", "bootstrap-admin",
                        "environment", env, "permission", "env-file:write", "ttl", "PT10M", "reason", "preflight test"))
                .post("/api/v1/grants").then().statusCode(201);
        as(adminToken()).post("/api/v1/environments/" + env + "/env-file/write").then().statusCode(200);
    }
}
