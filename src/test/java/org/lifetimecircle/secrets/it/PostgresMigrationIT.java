package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;
import static org.lifetimecircle.secrets.testing.Api.grant;
import static org.lifetimecircle.secrets.testing.Rotations.awaitFinished;
import static org.lifetimecircle.secrets.testing.Rotations.rotate;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.AsRoot;
import org.lifetimecircle.secrets.testing.Processes;
import org.lifetimecircle.secrets.testing.ServiceProcess;
import org.lifetimecircle.secrets.testing.TestPostgres;

/**
 * Black-box test of moving a store from SQLite to PostgreSQL (docs/postgresql.md): the packaged jar builds a store
 * on SQLite through the API (thousands of audit events, completed rotations, principals and grants), is stopped,
 * {@code ltc-secrets-db migrate-to-postgresql} copies it into a fresh database of a real PostgreSQL, and the same
 * jar, data directory and master key then serve the same principals, grants, rotations, versions and env-file bytes
 * from PostgreSQL, with the audit chain unchanged (same head, accepted by tools/audit-verify) and extended by a new
 * rotation. Then backup.sh and restore.sh round-trip that PostgreSQL store into another empty database.
 */
class PostgresMigrationIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    private static final List<String> ENVIRONMENTS = List.of("prod", "staging");
    /** Each env-file read is one audit event: enough of them to make the copy and its checks non-trivial. */
    private static final int READS = 2500;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path tmp;
    Path data;
    Path policies;
    Path fileRoot;
    int starts;

    @BeforeEach
    void layout() throws IOException {
        data = tmp.resolve("data");
        fileRoot = data.resolve("root");
        policies = tmp.resolve("policies");
        Files.createDirectories(policies.resolve("environments"));
        for (String env : ENVIRONMENTS) {
            // prod and staging have no app section, so their rotations complete here.
            Files.copy(Path.of("src/test/resources/test-policies/environments/" + env + ".yaml"),
                    policies.resolve("environments/" + env + ".yaml"));
        }
    }

    @Test
    void anSqliteStoreMovesToPostgresqlWithEveryRowAndTheAuditChainUnchanged() throws Exception {
        State before;
        Path sqliteExport = tmp.resolve("sqlite-export.jsonl");
        try (ServiceProcess service = start(Map.of())) {
            String token = adminToken(data);
            build(service, token);
            // The env files first: a read counts as a use of the grant, and the metadata must show the last one.
            Map<String, List<Byte>> files = envFiles(service, token);
            before = new State(metadata(service, token), files);
            Files.write(sqliteExport, export(service, token));
            // The audit signing key as pinned at go-live: the PostgreSQL store must sign with the same one.
            writePem(service, token);
            // While the service has the store open, nothing is copied.
            String busy = TestPostgres.cluster().createDatabase();
            Processes.Result refused = migrate(busy);
            assertThat(refused.exit()).as(refused.output()).isEqualTo(1);
            assertThat(refused.output()).contains(service.pid() + "").contains("stop the service first");
            assertThat(triggers(busy)).as("not even the schema").isEmpty();
            assertThat(service.stop()).isIn(0, 143);
        }
        List<String> sqliteLines = Files.readAllLines(sqliteExport);
        assertThat(sqliteLines.size()).as("audit events on SQLite").isGreaterThan(READS);
        String sqliteHead = sqliteLines.get(sqliteLines.size() - 1);

        String url = TestPostgres.cluster().createDatabase();
        Processes.Result migrated = migrate(url);
        assertThat(migrated.exit()).as(migrated.output()).isZero();
        assertThat(migrated.output()).contains("every table verified: row counts and content digests equal")
                .contains("anchor seq=")
                .contains("audit chain verified on both, exports identical").contains("migrated and verified");
        // A second run finds the target full and changes nothing.
        Processes.Result again = migrate(url);
        assertThat(again.exit()).as(again.output()).isEqualTo(1);
        assertThat(again.output()).contains("the target database is not empty");
        assertThat(triggers(url)).as("the append-only triggers are in force after the copy")
                .containsExactlyInAnyOrder("audit_event_append_only", "audit_event_no_truncate",
                        "audit_anchor_append_only", "audit_anchor_no_truncate");

        Map<String, String> pg = Map.of("ltc-secrets.store", "postgresql", "ltc-secrets.store.url", url,
                "ltc-secrets.store.username", TestPostgres.USER);
        try (ServiceProcess service = start(pg)) {
            String token = adminToken(data);
            // The metadata first, as copied: reading an env file counts as a use of the grant.
            Map<String, String> metadata = metadata(service, token);
            State after = new State(metadata, envFiles(service, token));
            assertThat(after.metadata()).as("principals, grants, rotations and versions").isEqualTo(before.metadata());
            assertThat(after.envFiles()).as("env files, byte for byte").isEqualTo(before.envFiles());

            List<String> pgLines = Files.readAllLines(verifiedExport(service, token, "pg-export"));
            assertThat(pgLines.subList(0, sqliteLines.size())).as("the chain from SQLite, unchanged")
                    .isEqualTo(sqliteLines);
            assertThat(pgLines.get(sqliteLines.size() - 1)).isEqualTo(sqliteHead);

            String id = rotate(service, token, "prod", "LTC_SECRET_KEY");
            assertThat(awaitFinished(service, token, id).getString("status")).isEqualTo("COMPLETED");
            assertThat(Files.readAllLines(verifiedExport(service, token, "pg-export-2")).size()).as("the chain goes on")
                    .isGreaterThan(pgLines.size());
            Response verify = as(service, token).get("/api/v1/audit/verify");
            assertThat(verify.jsonPath().getBoolean("valid")).as(verify.asString()).isTrue();

            backupAndRestore(url, pem().toString(), service);
        }
    }

    @Test
    void theFlywayHistoryItWritesIsTheOneTheServiceWritesItself() throws Exception {
        try (ServiceProcess service = start(Map.of())) {
            assertThat(service.stop()).isIn(0, 143);
        }
        String migrated = TestPostgres.cluster().createDatabase();
        Processes.Result r = migrate(migrated);
        assertThat(r.exit()).as(r.output()).isZero();
        // Another data directory: a fresh store the service migrates with its own Flyway.
        String fresh = TestPostgres.cluster().createDatabase();
        data = tmp.resolve("fresh-data");
        try (ServiceProcess service = start(Map.of("ltc-secrets.store", "postgresql", "ltc-secrets.store.url", fresh,
                "ltc-secrets.store.username", TestPostgres.USER))) {
            assertThat(service.stop()).isIn(0, 143);
        }
        assertThat(history(migrated)).isNotEmpty().isEqualTo(history(fresh));
    }

    // ---- the store ----------------------------------------------------------------------------------

    /** Principals with grants, completed rotations on both environments, and READS audited env-file reads. */
    private void build(ServiceProcess service, String token) throws Exception {
        for (String env : ENVIRONMENTS) {
            grant(service, token, env, "secret:rotate");
            grant(service, token, env, "env-file:read");
        }
        for (String role : List.of("deployer", "auditor", "security-engineer")) {
            String name = "migrated-" + role;
            Response p = as(service, token).contentType(ContentType.JSON).body(Map.of("name", name, "role", role))
                    .post("/api/v1/principals");
            assertThat(p.statusCode()).as(p.asString()).isEqualTo(201);
            Response t = as(service, token).contentType(ContentType.JSON).body("{}")
                    .post("/api/v1/principals/" + name + "/tokens");
            assertThat(t.statusCode()).as(t.asString()).isEqualTo(201);
            if (role.equals("deployer")) {
                Response g = as(service, token).contentType(ContentType.JSON).body(Map.of("principal", name,
                        "environment", "staging", "permission", "env-file:read", "ttl", "PT2H", "reason", "migration"))
                        .post("/api/v1/grants");
                assertThat(g.statusCode()).as(g.asString()).isEqualTo(201);
            }
        }
        for (int i = 0; i < 3; i++) {
            for (String env : ENVIRONMENTS) {
                if (env.equals("staging") && i == 2) {
                    continue;
                }
                assertThat(awaitFinished(service, token, rotate(service, token, env, "LTC_SECRET_KEY"))
                        .getString("status")).isEqualTo("COMPLETED");
            }
        }
        // An archived prefix: its events leave the database, its signed anchor stays, and the chain goes on from it.
        Response archived = as(service, token).contentType(ContentType.JSON)
                .body(Map.of("before", Instant.now().toString(), "reason", "before the move to PostgreSQL"))
                .post("/api/v1/audit/archive");
        assertThat(archived.statusCode()).as(archived.asString()).isEqualTo(200);
        assertThat(archived.jsonPath().getInt("events")).isPositive();
        HttpRequest read = HttpRequest.newBuilder(URI.create(service.baseUrl() + "/api/v1/environments/prod/env-file"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build();
        for (int i = 0; i < READS; i++) {
            assertThat(HTTP.send(read, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
        }
    }

    /** What the API says about the store, as JSON text; and the env files it serves. */
    private record State(Map<String, String> metadata, Map<String, List<Byte>> envFiles) {
    }

    private static Map<String, String> metadata(ServiceProcess service, String token) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("principals", get(service, token, "/api/v1/principals"));
        metadata.put("grants", get(service, token, "/api/v1/grants?limit=1000"));
        metadata.put("rotations", get(service, token, "/api/v1/rotations?limit=1000"));
        for (String env : ENVIRONMENTS) {
            metadata.put(env + " versions", get(service, token, "/api/v1/environments/" + env
                    + "/secrets/LTC_SECRET_KEY/versions"));
        }
        return metadata;
    }

    private static Map<String, List<Byte>> envFiles(ServiceProcess service, String token) {
        Map<String, List<Byte>> files = new LinkedHashMap<>();
        for (String env : ENVIRONMENTS) {
            Response r = as(service, token).get("/api/v1/environments/" + env + "/env-file");
            assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
            List<Byte> bytes = new ArrayList<>();
            for (byte b : r.asByteArray()) {
                bytes.add(b);
            }
            files.put(env, bytes);
        }
        return files;
    }

    private static String get(ServiceProcess service, String token, String path) {
        Response r = as(service, token).get(path);
        assertThat(r.statusCode()).as(path + ": " + r.asString()).isEqualTo(200);
        return r.asString();
    }

    private static byte[] export(ServiceProcess service, String token) {
        Response r = as(service, token).get("/api/v1/audit/export?format=jsonl");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        return r.asByteArray();
    }

    /** The audit signing key, written as the key pinned at go-live that verifications check signatures against. */
    private void writePem(ServiceProcess service, String token) throws IOException {
        Response r = as(service, token).get("/api/v1/audit/checkpoint");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
        Files.writeString(pem(), r.jsonPath().getString("publicKeyPem"));
    }

    private Path pem() {
        return tmp.resolve("audit-signing.pem");
    }

    /**
     * The service's audit export, which tools/audit-verify accepts from the signed archive anchor to a fresh signed
     * checkpoint (both checked against the pinned key); returns it.
     */
    private Path verifiedExport(ServiceProcess service, String token, String name) throws Exception {
        // The checkpoint before the export, so the export holds the event it signs.
        Response cp = as(service, token).get("/api/v1/audit/checkpoint");
        assertThat(cp.statusCode()).as(cp.asString()).isEqualTo(200);
        Path checkpoint = tmp.resolve(name + ".checkpoint.json");
        Files.writeString(checkpoint, cp.asString());
        Path export = tmp.resolve(name + ".jsonl");
        Files.write(export, export(service, token));
        Path anchor;
        try (Stream<Path> files = Files.list(data.resolve("audit-archive"))) {
            anchor = files.filter(f -> f.getFileName().toString().endsWith(".anchor.json")).findFirst().orElseThrow();
        }
        Processes.Result v = Processes.run(List.of("python3", "tools/audit-verify", "--format", "jsonl", "--after",
                anchor.toString(), "--checkpoint", checkpoint.toString(), "--public-key", pem().toString(),
                export.toString()));
        assertThat(v.exit()).as(v.output()).isZero();
        assertThat(v.output()).startsWith("OK: ").contains("anchor seq=").contains("checkpoint seq=");
        return export;
    }

    // ---- backup and restore on PostgreSQL --------------------------------------------------------------

    /**
     * backup.sh while the service runs on PostgreSQL, then restore.sh into another empty database, in an
     * installation root of its own (master key, ltc-secrets user, data directory): the restored database has
     * the backup's facts and a chain that verifies against the pinned key; a full target is refused.
     */
    private void backupAndRestore(String url, String pem, ServiceProcess service) throws Exception {
        AsRoot.assume("restore.sh sets the owner of what it restores");
        Path root = tmp.resolve("root");
        Files.createDirectories(root.resolve("etc/ltc-secrets"));
        Files.createDirectories(root.resolve("var/lib/ltc-secrets"));
        Files.copy(data.resolve("master.key"), root.resolve("etc/ltc-secrets/master.key"));
        Files.writeString(root.resolve("etc/passwd"), "ltc-secrets:x:" + 4242 + ":" + 4242 + "::/nonexistent:/bin/false\n");
        Path backup = tmp.resolve("backup");
        List<String> store = List.of("--store-url", url, "--store-user", TestPostgres.USER);

        List<String> cmd = new ArrayList<>(List.of("k8s-free-deploy/backup.sh", "--root", root.toString(), "--out",
                backup.toString(), "--store", "postgresql"));
        cmd.addAll(store);
        Processes.Result b = Processes.run(cmd);
        assertThat(b.exit()).as(b.output()).isZero();
        assertThat(backup.resolve("ltc-secrets.pgdump")).exists();
        JsonPath manifest = JsonPath.from(Files.readString(backup.resolve("manifest.json")));
        assertThat(manifest.getString("store")).isEqualTo("postgresql");
        String head = manifest.getString("audit.headHash");
        assertThat(service.stop()).isIn(0, 143);

        // Into the full database it came from: refused before anything is written.
        Processes.Result full = Processes.run(restore(root, pem, url, backup));
        assertThat(full.exit()).as(full.output()).isEqualTo(1);
        assertThat(full.output()).contains("not empty");

        String target = TestPostgres.cluster().createDatabase();
        Processes.Result r = Processes.run(restore(root, pem, target, backup));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("restored facts equal the manifest's")
                .contains("audit chain of the restored database: OK");
        assertThat(root.resolve("var/lib/ltc-secrets/env-file-hold")).exists();

        try (ServiceProcess restored = start(Map.of("ltc-secrets.store", "postgresql", "ltc-secrets.store.url",
                target, "ltc-secrets.store.username", TestPostgres.USER))) {
            String t = adminToken(data);
            Response verify = as(restored, t).get("/api/v1/audit/verify");
            assertThat(verify.jsonPath().getBoolean("valid")).as(verify.asString()).isTrue();
            // The restored chain holds the backup's head (the restored service has added its start since).
            Path export = verifiedExport(restored, t, "restored-export");
            assertThat(Files.readString(export)).contains("\"hash\":\"" + head + "\"");
        }
    }

    private static List<String> restore(Path root, String pem, String url, Path backup) {
        return List.of("k8s-free-deploy/restore.sh", "--root", root.toString(), "--public-key", pem,
                "--store-url", url, "--store-user", TestPostgres.USER, backup.toString());
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private Processes.Result migrate(String url) throws Exception {
        return Processes.run(List.of("python3", "k8s-free-deploy/ltc-secrets-db", "migrate-to-postgresql",
                data.resolve("ltc-secrets.db").toString(), "--store-url", url, "--username", TestPostgres.USER,
                "--app", System.getProperty("quarkus.app.dir", "target/quarkus-app"),
                "--audit-verify", "tools/audit-verify"));
    }

    private ServiceProcess start(Map<String, String> properties) {
        ServiceProcess.Builder b = ServiceProcess.dev(tmp, data, policies, fileRoot)
                .log(tmp.resolve("service-" + (++starts) + ".log"));
        // SQLite unless the test says otherwise, also when the suite runs on PostgreSQL (-Dltc.test.store=postgresql):
        // the store this test moves is an SQLite file.
        b.property("ltc-secrets.store", "sqlite");
        properties.forEach(b::property);
        ServiceProcess service = b.start();
        try {
            Duration ready = service.awaitHealthy(START_DEADLINE);
            System.out.printf("[pg-migration-it] start %d healthy in %d ms%n", starts, ready.toMillis());
        } catch (AssertionError e) {
            service.close();
            throw e;
        }
        return service;
    }

    private static List<String> triggers(String url) throws SQLException {
        return column(url, "select tgname from pg_trigger where not tgisinternal and tgenabled = 'O'");
    }

    private static List<String> history(String url) throws SQLException {
        return column(url, "select concat_ws(' ', installed_rank, version, description, type, script, checksum, success)"
                + " from flyway_schema_history order by installed_rank");
    }

    private static List<String> column(String url, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = TestPostgres.connect(url); ResultSet rs = c.createStatement().executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
