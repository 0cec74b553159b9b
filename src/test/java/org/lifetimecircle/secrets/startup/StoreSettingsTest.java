package org.lifetimecircle.secrets.startup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;

/** The store settings are refused when they disagree, and the PostgreSQL password file gets the master key's checks. */
class StoreSettingsTest {

    private static final String PASSWORD = "correct horse battery staple";

    @TempDir
    Path dir;

    private static LtcSecretsConfig.Store store(LtcSecretsConfig.StoreKind kind, String url, String user, Path file) {
        return new LtcSecretsConfig.Store() {
            @Override
            public LtcSecretsConfig.StoreKind kind() {
                return kind;
            }

            @Override
            public Optional<String> url() {
                return Optional.ofNullable(url);
            }

            @Override
            public Optional<String> username() {
                return Optional.ofNullable(user);
            }

            @Override
            public Optional<Path> passwordFile() {
                return Optional.ofNullable(file);
            }
        };
    }

    private Path passwordFile(String content, String mode) throws Exception {
        Path f = dir.resolve("store.password");
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void sqliteTakesNoConnectionSettingsAndPostgresqlNeedsAPostgresqlUrl() {
        assertThatCode(() -> ConfigCheck.store(store(LtcSecretsConfig.StoreKind.SQLITE, null, null, null)))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> ConfigCheck.store(store(LtcSecretsConfig.StoreKind.SQLITE,
                "jdbc:postgresql://db/ltc", null, null)))
                .isInstanceOf(StartupRefusedException.class).hasMessageContaining("ltc-secrets.store=postgresql");
        assertThatThrownBy(() -> ConfigCheck.store(store(LtcSecretsConfig.StoreKind.POSTGRESQL, null, "ltc", null)))
                .isInstanceOf(StartupRefusedException.class).hasMessageContaining("needs ltc-secrets.store.url");
        assertThatThrownBy(() -> ConfigCheck.store(store(LtcSecretsConfig.StoreKind.POSTGRESQL,
                "jdbc:sqlite:/tmp/x.db", null, null)))
                .isInstanceOf(StartupRefusedException.class).hasMessageContaining("jdbc:postgresql://");
        assertThatCode(() -> ConfigCheck.store(store(LtcSecretsConfig.StoreKind.POSTGRESQL,
                "jdbc:postgresql://127.0.0.1:5432/ltc", "ltc", null))).doesNotThrowAnyException();
    }

    @Test
    void aPasswordInTheUrlIsRefusedWithoutRepeatingIt() {
        assertThatThrownBy(() -> ConfigCheck.store(store(LtcSecretsConfig.StoreKind.POSTGRESQL,
                "jdbc:postgresql://db/ltc?user=ltc&password=" + PASSWORD, null, null)))
                .isInstanceOf(StartupRefusedException.class)
                .hasMessageContaining("password-file")
                .hasMessageNotContaining(PASSWORD);
    }

    @Test
    void aPrivatePasswordFileIsReadItsFirstLineOnly() throws Exception {
        assertThat(StoreCredentials.readPassword(passwordFile(PASSWORD + "\nsecond line\n", "r--------")))
                .isEqualTo(PASSWORD);
        assertThat(StoreCredentials.readPassword(passwordFile(PASSWORD, "rw-------"))).isEqualTo(PASSWORD);
    }

    @Test
    void aPasswordFileOthersCanReadIsRefusedWithTheFixAndNeverTheContent() throws Exception {
        for (String mode : new String[] {"r--r-----", "rw-r--r--", "r-----r--"}) {
            Path f = passwordFile(PASSWORD, mode);
            assertThatThrownBy(() -> StoreCredentials.readPassword(f))
                    .as(mode).isInstanceOf(StartupRefusedException.class)
                    .hasMessageContaining("chmod 0400 " + f)
                    .hasMessageNotContaining(PASSWORD);
        }
    }

    @Test
    void aLinkADirectoryAnEmptyOrOversizedFileIsRefused() throws Exception {
        Path real = passwordFile(PASSWORD, "r--------");
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        assertThatThrownBy(() -> StoreCredentials.readPassword(link)).hasMessageContaining("regular file");
        assertThatThrownBy(() -> StoreCredentials.readPassword(dir)).hasMessageContaining("regular file");
        Path empty = passwordFile("\n", "r--------");
        assertThatThrownBy(() -> StoreCredentials.readPassword(empty)).hasMessageContaining("is empty");
        Path big = passwordFile("x".repeat(2000), "r--------");
        assertThatThrownBy(() -> StoreCredentials.readPassword(big)).hasMessageContaining("larger than");
        assertThatThrownBy(() -> StoreCredentials.readPassword(dir.resolve("missing")))
                .hasMessageContaining("cannot read").hasMessageContaining("NoSuchFileException");
    }
}
