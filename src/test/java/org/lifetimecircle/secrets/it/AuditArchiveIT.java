package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Processes;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * Audit archiving against the packaged jar: kill -9 while an archive's files exist but its database
 * step failed, then restarts, each a real process on the same data directory.
 */
class AuditArchiveIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(60);
    private static final String VERIFIER = Path.of("tools/audit-verify").toAbsolutePath().toString();

    @TempDir
    Path tmp;
    Path data;
    Path policies;
    int starts;

    @BeforeEach
    void layout() throws IOException {
        data = tmp.resolve("data");
        policies = tmp.resolve("policies");
        Files.createDirectories(policies.resolve("environments"));
        for (String f : List.of("prod.yaml", "staging.yaml")) {
            Files.copy(Path.of("src/test/resources/test-policies/environments", f),
                    policies.resolve("environments").resolve(f));
        }
    }

    @Test
    void aKillBetweenTheArchiveFileAndTheDatabaseLeavesAConsistentStateAndArchivesSurviveRestarts() throws Exception {
        Path dir = data.resolve("audit-archive");
        try (ServiceProcess service = start()) {
            String token = token();
            for (int i = 0; i < 3; i++) {
                assertThat(as(service, token).get("/api/v1/environments").statusCode()).isEqualTo(200);
            }
            // A real fault at the database step: the files are written, the anchor insert fails.
            sql(Db.refusal(ServiceProcess.onPostgresql(data), "inject_archive_failure", "audit_anchor", null,
                    "injected archive failure"));
            Response failed = archive(service, token);
            assertThat(failed.statusCode()).as(failed.asString()).isEqualTo(500);
            assertThat(archiveFiles(dir)).as("files of the interrupted archive").hasSize(3);
            service.kill();
        }
        sql(Db.dropRefusal(ServiceProcess.onPostgresql(data), "inject_archive_failure", "audit_anchor"));

        long archivedThrough;
        String file;
        try (ServiceProcess service = start()) {
            String token = token();
            assertThat(archiveFiles(dir)).as("start-up removed the files of the interrupted archive").isEmpty();
            Response verify = as(service, token).get("/api/v1/audit/verify");
            assertThat(verify.jsonPath().getBoolean("valid")).as(verify.asString()).isTrue();
            assertThat(verify.jsonPath().getString("archivedThroughSeq")).isNull();

            Response ok = archive(service, token);
            assertThat(ok.statusCode()).as(ok.asString()).isEqualTo(200);
            archivedThrough = ok.jsonPath().getLong("archivedThroughSeq");
            file = ok.jsonPath().getString("file");
            assertThat(archiveFiles(dir)).hasSize(3).contains(file);
            service.kill(); // right after the answer: it is durable
        }

        try (ServiceProcess service = start()) {
            String token = token();
            assertThat(archiveFiles(dir)).as("an archive an anchor names stays").contains(file);
            Response verify = as(service, token).get("/api/v1/audit/verify");
            assertThat(verify.jsonPath().getBoolean("valid")).as(verify.asString()).isTrue();
            assertThat(verify.jsonPath().getLong("archivedThroughSeq")).isEqualTo(archivedThrough);
            Response start = as(service, token).get("/api/v1/audit/events?action=system.start&limit=1000");
            List<Map<String, Object>> starts = start.jsonPath().getList("$");
            assertThat(starts.get(starts.size() - 1).get("details").toString())
                    .contains("auditArchivedThroughSeq=" + archivedThrough);

            Response export = as(service, token).get("/api/v1/audit/export?format=jsonl");
            assertThat(export.header("X-Audit-Chain-Start-Seq")).isEqualTo(String.valueOf(archivedThrough + 1));
            Path live = tmp.resolve("live.jsonl");
            Files.write(live, export.asByteArray());
            Processes.Result r = Processes.run(List.of(VERIFIER, "--after", dir.resolve(file).toString(),
                    live.toString()));
            assertThat(r.exit()).as(r.output()).isZero();
            assertThat(r.output()).contains("anchor seq=" + archivedThrough + " verified");
            assertThat(service.stop()).isIn(0, 143);
        }
    }

    private Response archive(ServiceProcess service, String token) throws Exception {
        return as(service, token).contentType(ContentType.JSON)
                .body(Map.of("before", Instant.now().toString(), "reason", "archive crash test"))
                .post("/api/v1/audit/archive");
    }

    private static Set<String> archiveFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
        }
    }

    private void sql(String... statements) throws Exception {
        try (Connection c = ServiceProcess.database(data); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private String token() throws IOException {
        return Files.readString(data.resolve("bootstrap-admin.token")).trim();
    }

    private ServiceProcess start() {
        return ServiceProcess.dev(tmp, data, policies, data.resolve("root"))
                .log(tmp.resolve("service-" + (++starts) + ".log"))
                .startHealthy(START_DEADLINE);
    }
}
