package org.lifetimecircle.secrets.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.FULL;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.assertNoCanary;
import static org.lifetimecircle.secrets.policy.PolicyFixtures.edit;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading a policies directory: the shipped samples, which files count, and directory-level refusals. */
class PolicyLoaderTest {

    @TempDir
    Path policies;

    @Test
    void shippedPoliciesLoadFromTheRealPoliciesDirectory() {
        List<EnvironmentPolicy> loaded = PolicyLoader.loadAll(Path.of("policies"));

        assertThat(loaded.stream().map(EnvironmentPolicy::environment).toList()).isEqualTo(List.of("prod", "staging"));
        EnvironmentPolicy prod = loaded.get(0);
        assertThat(prod.sourceFile()).isEqualTo(Path.of("policies", "environments", "prod.yaml"));
        assertThat(prod.envFile())
                .isEqualTo(new EnvFilePolicy("/etc/lifetimecircle/prod.env", FileMode.M0600, Optional.empty(),
                DriftAction.REPAIR));
        assertThat(prod.variables()).isEqualTo(Map.of("LTC_ENV", "prod",
                "LTC_DATABASE_URL", "sqlite+pysqlite:////var/lib/lifetimecircle/data/app.db",
                "LTC_DB_PATH", "/var/lib/lifetimecircle/data/app.db"));
        assertThat(prod.secrets())
                .isEqualTo(Map.of("LTC_SECRET_KEY", new SecretPolicy("LTC_SECRET_KEY", 64, Alphabet.BASE64URL,
                Duration.ofDays(90), Duration.ofDays(14), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG)));
        assertThat(prod.app())
                .isEqualTo(Optional.of(new AppPolicy(List.of("systemctl", "restart", "lifetimecircle-api"),
                URI.create("http://127.0.0.1:8000/health"), Duration.ofSeconds(60), Duration.ofSeconds(30),
                Optional.of("lifetimecircle"))));
        assertThat(prod.paths()).isEqualTo(Optional.of(new PathsPolicy(Optional.of("/var/lib/lifetimecircle/data"),
                Optional.of("/var/lib/lifetimecircle/storage"))));

        EnvironmentPolicy staging = loaded.get(1);
        assertThat(staging.envFile().path()).isEqualTo("/etc/lifetimecircle/staging.env");
        assertThat(staging.variables().get("LTC_ENV")).isEqualTo("staging");
        assertThat(staging.variables().get("LTC_DATABASE_URL"))
                .isEqualTo("sqlite+pysqlite:////var/lib/lifetimecircle-staging/data/app.db");
        assertThat(staging.variables().get("LTC_DB_PATH")).isEqualTo("/var/lib/lifetimecircle-staging/data/app.db");
        assertThat(staging.secrets()).isEqualTo(prod.secrets());
        AppPolicy stagingApp = staging.app().orElseThrow();
        assertThat(stagingApp.restartCommand())
                .isEqualTo(List.of("systemctl", "restart", "lifetimecircle-api-staging"));
        assertThat(stagingApp.healthUrl()).isEqualTo(URI.create("http://127.0.0.1:8001/health"));
        assertThat(staging.paths())
                .isEqualTo(Optional.of(new PathsPolicy(Optional.of("/var/lib/lifetimecircle-staging/data"),
                Optional.of("/var/lib/lifetimecircle-staging/storage"))));
    }

    @Test
    void policiesComeBackSortedByEnvironment() throws IOException {
        write("staging.yaml", staging());
        write("prod.yaml", FULL);
        write("dev-2.yaml", FULL.replace("environment: prod", "environment: dev-2")
                .replace("/etc/lifetimecircle/prod.env", "/etc/lifetimecircle/dev-2.env"));

        assertThat(PolicyLoader.loadAll(policies).stream().map(EnvironmentPolicy::environment).toList())
                .isEqualTo(List.of("dev-2", "prod", "staging"));
    }

    @Test
    void readmeHiddenFilesAndSubdirectoriesAreIgnored() throws IOException {
        write("prod.yaml", FULL);
        write("README.md", "# policies\n");
        write(".prod.yaml.swp", "garbage");
        write(".#staging.yaml", "garbage");
        Files.createDirectories(environments().resolve("archive"));

        assertThat(PolicyLoader.loadAll(policies).size()).isEqualTo(1);
    }

    @Test
    void ymlFileIsRefusedWithARenameHint() throws IOException {
        write("prod.yaml", FULL);
        write("staging.yml", staging());

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(policies)).actual();

        assertThat(e.file()).isEqualTo(environments().resolve("staging.yml").toString());
        assertThat(e.field()).isEqualTo("(file name)");
        assertThat(e.reason().startsWith("rename to .yaml")).as(e.reason()).isTrue();
    }

    @Test
    void upperCaseExtensionIsRefusedRatherThanSkipped() throws IOException {
        write("prod.YAML", FULL);

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(policies)).actual();

        assertThat(e.field()).isEqualTo("(file name)");
        assertThat(e.reason().startsWith("rename to .yaml")).as(e.reason()).isTrue();
    }

    @Test
    void missingPoliciesDirectoryIsRefused() {
        Path missing = policies.resolve("nope");

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(missing)).actual();

        assertThat(e.file()).isEqualTo(missing.toString());
        assertThat(e.field()).isEqualTo("(directory)");
        assertThat(e.reason().startsWith("does not exist; set ltc-secrets.policies-dir")).as(e.reason()).isTrue();
    }

    @Test
    void policiesPathThatIsAFileIsRefused() throws IOException {
        Path file = Files.writeString(policies.resolve("policies.yaml"), FULL);

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(file)).actual();

        assertThat(e.field()).isEqualTo("(directory)");
        assertThat(e.reason().startsWith("is not a directory")).as(e.reason()).isTrue();
    }

    @Test
    void missingEnvironmentsSubdirectoryIsRefused() {
        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(policies)).actual();

        assertThat(e.file()).isEqualTo(environments().toString());
        assertThat(e.field()).isEqualTo("(directory)");
        assertThat(e.reason().startsWith("does not exist; create it")).as(e.reason()).isTrue();
    }

    @Test
    void environmentsDirectoryWithoutPoliciesIsRefused() throws IOException {
        write("README.md", "nothing here yet\n");

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(policies)).actual();

        assertThat(e.file()).isEqualTo(environments().toString());
        assertThat(e.field()).isEqualTo("(directory)");
        assertThat(e.reason().startsWith("holds no policy")).as(e.reason()).isTrue();
    }

    @Test
    void twoPoliciesWritingTheSameEnvFileAreRefused() throws IOException {
        write("prod.yaml", FULL);
        write("staging.yaml", staging().replace("/etc/lifetimecircle/staging.env", "/etc/lifetimecircle/prod.env"));

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(policies)).actual();

        assertThat(e.file()).isEqualTo(environments().resolve("staging.yaml").toString());
        assertThat(e.field()).isEqualTo("envFile.path");
        assertThat(e.reason()).isEqualTo("same path as in " + environments().resolve("prod.yaml"));
    }

    @Test
    void errorInOneFileNamesThatFile() throws IOException {
        write("prod.yaml", FULL);
        write("staging.yaml", edit(staging(), "rotateEvery: P90D", "rotateEvery: P3M"));

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(policies)).actual();

        assertThat(e.file()).isEqualTo(environments().resolve("staging.yaml").toString());
        assertThat(e.field()).isEqualTo("secrets.LTC_SECRET_KEY.rotateEvery");
        assertThat(e.reason()).isEqualTo("use days, e.g. P30D");
        assertNoCanary(e);
    }

    @Test
    void fileThatIsNotUtf8IsRefused() throws IOException {
        Files.createDirectories(environments());
        byte[] latin1 = FULL.replace("LTC_ENV: prod", "LTC_ENV: caf\u00e9").getBytes(StandardCharsets.ISO_8859_1);
        Files.write(environments().resolve("prod.yaml"), latin1);

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(policies)).actual();

        assertThat(e.field()).isEqualTo("(file)");
        assertThat(e.reason()).isEqualTo("is not valid UTF-8");
    }

    @Test
    void fileLargerThanOneMebibyteIsRefused() throws IOException {
        write("prod.yaml", FULL + "#".repeat(PolicyLoader.MAX_FILE_BYTES) + "\n");

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(policies)).actual();

        assertThat(e.field()).isEqualTo("(file)");
        assertThat(e.reason().startsWith("larger than")).as(e.reason()).isTrue();
    }

    @Test
    void fileNameStemMustEqualTheEnvironment() throws IOException {
        write("production.yaml", FULL);

        PolicyException e = assertThatExceptionOfType(PolicyException.class)
                .isThrownBy(() -> PolicyLoader.loadAll(policies)).actual();

        assertThat(e.field()).isEqualTo("environment");
        assertThat(e.reason()).isEqualTo("must equal the file name (production.yaml)");
    }

    private Path environments() {
        return policies.resolve("environments");
    }

    private void write(String name, String content) throws IOException {
        Files.createDirectories(environments());
        Files.writeString(environments().resolve(name), content);
    }

    private static String staging() {
        return FULL.replace("environment: prod", "environment: staging")
                .replace("/etc/lifetimecircle/prod.env", "/etc/lifetimecircle/staging.env")
                .replace("LTC_ENV: prod", "LTC_ENV: staging");
    }
}
