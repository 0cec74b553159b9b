package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.ServiceProcess;
import org.lifetimecircle.secrets.testing.TestPostgres;

/**
 * The packaged jar logs in to PostgreSQL with the password in {@code ltc-secrets.store.password-file} (a role the
 * test server makes prove it with scram), and refuses to start, without repeating the password, when the file is
 * readable by others or the password is wrong.
 */
class StorePasswordIT {

    private static final String PASSWORD = "s3cret-" + Long.toHexString(System.nanoTime());

    @TempDir
    Path tmp;

    private ServiceProcess.Builder service(String url, Path passwordFile, String log) throws Exception {
        return ServiceProcess.dev(tmp, tmp.resolve("data"), ServiceProcess.testPolicies(tmp.resolve(log + "-w"), "staging"),
                        tmp.resolve("root"))
                .property("ltc-secrets.store", "postgresql")
                .property("ltc-secrets.store.url", url)
                .property("ltc-secrets.store.username", TestPostgres.PASSWORD_USER)
                .property("ltc-secrets.store.password-file", passwordFile.toString())
                .log(tmp.resolve(log + ".log"));
    }

    private Path passwordFile(String name, String password, String mode) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, password + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void theServiceLogsInWithThePasswordFileAndRefusesAnOpenFileOrAWrongPassword() throws Exception {
        String url = TestPostgres.cluster().passwordRole(PASSWORD);

        try (ServiceProcess s = service(url, passwordFile("open.password", PASSWORD, "rw-r--r--"), "open").start()) {
            assertThat(s.awaitExit(Duration.ofSeconds(60))).isNotZero();
            assertThat(s.output()).contains("must not be readable by group or others; run: chmod 0400")
                    .doesNotContain(PASSWORD);
        }

        try (ServiceProcess s = service(url, passwordFile("wrong.password", "not-" + PASSWORD, "r--------"), "wrong")
                .start()) {
            assertThat(s.awaitExit(Duration.ofSeconds(60))).isNotZero();
            assertThat(s.output()).contains("ltc-secrets refused to start: cannot open the postgresql store: FATAL: "
                    + "password authentication failed for user \"" + TestPostgres.PASSWORD_USER + "\"")
                    .doesNotContain(PASSWORD);
        }

        try (ServiceProcess s = service(url, passwordFile("store.password", PASSWORD, "r--------"), "right")
                .startHealthy(ServiceProcess.START_DEADLINE)) {
            assertThat(s.get("/health").orElseThrow().statusCode()).isEqualTo(200);
            assertThat(s.output()).doesNotContain(PASSWORD);
        }
    }
}
