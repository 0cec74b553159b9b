package org.lifetimecircle.secrets.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
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

        assertEquals(List.of("prod", "staging"), loaded.stream().map(EnvironmentPolicy::environment).toList());
        EnvironmentPolicy prod = loaded.get(0);
        assertEquals(Path.of("policies", "environments", "prod.yaml"), prod.sourceFile());
        assertEquals(new EnvFilePolicy("/etc/lifetimecircle/prod.env", FileMode.M0600, Optional.empty(),
                DriftAction.REPAIR), prod.envFile());
        assertEquals(Map.of("LTC_ENV", "prod",
                "LTC_DATABASE_URL", "sqlite+pysqlite:////var/lib/lifetimecircle/data/app.db",
                "LTC_DB_PATH", "/var/lib/lifetimecircle/data/app.db"), prod.variables());
        assertEquals(Map.of("LTC_SECRET_KEY", new SecretPolicy("LTC_SECRET_KEY", 64, Alphabet.BASE64URL,
                Duration.ofDays(90), Duration.ofDays(14), Duration.ofDays(7), Optional.empty(), OverdueAction.FLAG)),
                prod.secrets());
        assertEquals(Optional.of(new AppPolicy(List.of("systemctl", "restart", "lifetimecircle-api"),
                URI.create("http://127.0.0.1:8000/health"), Duration.ofSeconds(60), Duration.ofSeconds(30),
                Optional.of("lifetimecircle"))), prod.app());
        assertEquals(Optional.of(new PathsPolicy(Optional.of("/var/lib/lifetimecircle/data"),
                Optional.of("/var/lib/lifetimecircle/storage"))), prod.paths());

        EnvironmentPolicy staging = loaded.get(1);
        assertEquals("/etc/lifetimecircle/staging.env", staging.envFile().path());
        assertEquals("staging", staging.variables().get("LTC_ENV"));
        assertEquals("sqlite+pysqlite:////var/lib/lifetimecircle-staging/data/app.db",
                staging.variables().get("LTC_DATABASE_URL"));
        assertEquals("/var/lib/lifetimecircle-staging/data/app.db", staging.variables().get("LTC_DB_PATH"));
        assertEquals(prod.secrets(), staging.secrets());
        AppPolicy stagingApp = staging.app().orElseThrow();
        assertEquals(List.of("systemctl", "restart", "lifetimecircle-api-staging"), stagingApp.restartCommand());
        assertEquals(URI.create("http://127.0.0.1:8001/health"), stagingApp.healthUrl());
        assertEquals(Optional.of(new PathsPolicy(Optional.of("/var/lib/lifetimecircle-staging/data"),
                Optional.of("/var/lib/lifetimecircle-staging/storage"))), staging.paths());
    }

    @Test
    void policiesComeBackSortedByEnvironment() throws IOException {
        write("staging.yaml", staging());
        write("prod.yaml", FULL);
        write("dev-2.yaml", FULL.replace("environment: prod", "environment: dev-2")
                .replace("/etc/lifetimecircle/prod.env", "/etc/lifetimecircle/dev-2.env"));

        assertEquals(List.of("dev-2", "prod", "staging"),
                PolicyLoader.loadAll(policies).stream().map(EnvironmentPolicy::environment).toList());
    }

    @Test
    void readmeHiddenFilesAndSubdirectoriesAreIgnored() throws IOException {
        write("prod.yaml", FULL);
        write("README.md", "# policies\n");
        write(".prod.yaml.swp", "garbage");
        write(".#staging.yaml", "garbage");
        Files.createDirectories(environments().resolve("archive"));

        assertEquals(1, PolicyLoader.loadAll(policies).size());
    }

    @Test
    void ymlFileIsRefusedWithARenameHint() throws IOException {
        write("prod.yaml", FULL);
        write("staging.yml", staging());

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(policies));

        assertEquals(environments().resolve("staging.yml").toString(), e.file());
        assertEquals("(file name)", e.field());
        assertTrue(e.reason().startsWith("rename to .yaml"), e.reason());
    }

    @Test
    void upperCaseExtensionIsRefusedRatherThanSkipped() throws IOException {
        write("prod.YAML", FULL);

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(policies));

        assertEquals("(file name)", e.field());
        assertTrue(e.reason().startsWith("rename to .yaml"), e.reason());
    }

    @Test
    void missingPoliciesDirectoryIsRefused() {
        Path missing = policies.resolve("nope");

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(missing));

        assertEquals(missing.toString(), e.file());
        assertEquals("(directory)", e.field());
        assertTrue(e.reason().startsWith("does not exist; set ltc-secrets.policies-dir"), e.reason());
    }

    @Test
    void policiesPathThatIsAFileIsRefused() throws IOException {
        Path file = Files.writeString(policies.resolve("policies.yaml"), FULL);

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(file));

        assertEquals("(directory)", e.field());
        assertTrue(e.reason().startsWith("is not a directory"), e.reason());
    }

    @Test
    void missingEnvironmentsSubdirectoryIsRefused() {
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(policies));

        assertEquals(environments().toString(), e.file());
        assertEquals("(directory)", e.field());
        assertTrue(e.reason().startsWith("does not exist; create it"), e.reason());
    }

    @Test
    void environmentsDirectoryWithoutPoliciesIsRefused() throws IOException {
        write("README.md", "nothing here yet\n");

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(policies));

        assertEquals(environments().toString(), e.file());
        assertEquals("(directory)", e.field());
        assertTrue(e.reason().startsWith("holds no policy"), e.reason());
    }

    @Test
    void twoPoliciesWritingTheSameEnvFileAreRefused() throws IOException {
        write("prod.yaml", FULL);
        write("staging.yaml", staging().replace("/etc/lifetimecircle/staging.env", "/etc/lifetimecircle/prod.env"));

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(policies));

        assertEquals(environments().resolve("staging.yaml").toString(), e.file());
        assertEquals("envFile.path", e.field());
        assertEquals("same path as in " + environments().resolve("prod.yaml"), e.reason());
    }

    @Test
    void errorInOneFileNamesThatFile() throws IOException {
        write("prod.yaml", FULL);
        write("staging.yaml", edit(staging(), "rotateEvery: P90D", "rotateEvery: P3M"));

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(policies));

        assertEquals(environments().resolve("staging.yaml").toString(), e.file());
        assertEquals("secrets.LTC_SECRET_KEY.rotateEvery", e.field());
        assertEquals("use days, e.g. P30D", e.reason());
        assertNoCanary(e);
    }

    @Test
    void fileThatIsNotUtf8IsRefused() throws IOException {
        Files.createDirectories(environments());
        byte[] latin1 = FULL.replace("LTC_ENV: prod", "LTC_ENV: caf\u00e9").getBytes(StandardCharsets.ISO_8859_1);
        Files.write(environments().resolve("prod.yaml"), latin1);

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(policies));

        assertEquals("(file)", e.field());
        assertEquals("is not valid UTF-8", e.reason());
    }

    @Test
    void fileLargerThanOneMebibyteIsRefused() throws IOException {
        write("prod.yaml", FULL + "#".repeat(PolicyLoader.MAX_FILE_BYTES) + "\n");

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(policies));

        assertEquals("(file)", e.field());
        assertTrue(e.reason().startsWith("larger than"), e.reason());
    }

    @Test
    void fileNameStemMustEqualTheEnvironment() throws IOException {
        write("production.yaml", FULL);

        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.loadAll(policies));

        assertEquals("environment", e.field());
        assertEquals("must equal the file name (production.yaml)", e.reason());
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
