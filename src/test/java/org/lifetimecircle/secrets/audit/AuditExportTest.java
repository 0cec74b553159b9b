package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Processes;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/** Exports verify offline with the repo's verifier and openssl; tampering is caught; nothing secret leaks. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class AuditExportTest {

    private static final String VERIFIER = Path.of("tools/audit-verify").toAbsolutePath().toString();

    @TempDir
    Path tmp;

    @Test
    void jsonlAndCsvExportsVerifyOfflineAgainstASignedCheckpoint() throws Exception {
        Api.tokenFor("deployer"); // some traffic
        ExtractableResponse<Response> cp = as(adminToken()).get("/api/v1/audit/checkpoint").then().statusCode(200).extract();
        Path checkpoint = tmp.resolve("checkpoint.json");
        Files.writeString(checkpoint, cp.asString());
        Path pem = tmp.resolve("pub.pem");
        Files.writeString(pem, cp.path("publicKeyPem").toString());

        for (String format : new String[] {"jsonl", "csv"}) {
            ExtractableResponse<Response> export = as(adminToken()).get("/api/v1/audit/export?format=" + format)
                    .then().statusCode(200).header("Cache-Control", "no-store").extract();
            Path file = tmp.resolve("export." + format);
            Files.write(file, export.asByteArray());
            Processes.Result r = Processes.run(List.of(VERIFIER, "--checkpoint", checkpoint.toString(),
                    "--public-key", pem.toString(), file.toString()));
            assertThat(r.exit()).as(r.output()).isZero();
            String lastSeq = export.header("X-Audit-Last-Seq");
            assertThat(r.output()).startsWith("OK: ").contains("seq 1.." + lastSeq)
                    .contains("head " + export.header("X-Audit-Last-Hash"))
                    .contains("checkpoint seq=" + cp.path("seq") + " verified");
        }
    }

    @Test
    void aCheckpointVerifiesWithTheRealOpensslBinary() throws Exception {
        ExtractableResponse<Response> cp = as(adminToken()).get("/api/v1/audit/checkpoint").then().statusCode(200).extract();
        String message = cp.path("message");
        long seq = ((Number) cp.path("seq")).longValue();
        assertThat(message).isEqualTo("ltc-secrets audit checkpoint v1\nseq=" + seq + "\nhash=" + cp.path("hash")
                + "\nsignedAt=" + cp.path("signedAt") + "\n");
        Path msg = tmp.resolve("message.txt");
        Path sig = tmp.resolve("sig.bin");
        Path pem = tmp.resolve("pub.pem");
        Files.write(msg, message.getBytes(StandardCharsets.UTF_8));
        Files.write(sig, Base64.getDecoder().decode(cp.<String>path("signature")));
        Files.writeString(pem, cp.<String>path("publicKeyPem"));
        Processes.Result ok = Processes.run(List.of("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem.toString(),
                "-rawin", "-in", msg.toString(), "-sigfile", sig.toString()));
        assertThat(ok.exit()).as(ok.output()).isZero();
        assertThat(ok.output()).contains("Signature Verified Successfully");

        Files.writeString(msg, message.replace("seq=" + seq, "seq=" + (seq + 1)));
        Processes.Result bad = Processes.run(List.of("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem.toString(),
                "-rawin", "-in", msg.toString(), "-sigfile", sig.toString()));
        assertThat(bad.exit()).isNotZero();
    }

    @Test
    void tamperedExportsAreCaughtByTheOfflineVerifier() throws Exception {
        for (int i = 0; i < 5; i++) {
            Api.tokenFor("auditor");
        }
        List<String> lines = new ArrayList<>(as(adminToken()).get("/api/v1/audit/export").then().statusCode(200)
                .extract().asString().lines().toList());
        assertThat(lines.size()).isGreaterThan(8);
        int k = 4; // the line of seq 5
        assertOffline(lines, 0, null);
        assertOffline(replace(lines, k, "\"outcome\":\"SUCCESS\"", "\"outcome\":\"FAILED\""), 1, "at seq 5");
        List<String> deleted = new ArrayList<>(lines);
        deleted.remove(k);
        assertOffline(deleted, 1, "at seq 6");
        List<String> swapped = new ArrayList<>(lines);
        Collections.swap(swapped, k, k + 1);
        assertOffline(swapped, 1, "at seq 6");
        List<String> forged = new ArrayList<>(lines);
        String last = forged.get(forged.size() - 1);
        long lastSeq = Long.parseLong(last.replaceAll(".*\"seq\":(\\d+).*", "$1"));
        forged.add(last.replace("\"seq\":" + lastSeq, "\"seq\":" + (lastSeq + 1)));
        assertOffline(forged, 1, "at seq " + (lastSeq + 1));
        // Truncation keeps a valid chain; only a checkpoint beyond the end exposes it.
        String cp = as(adminToken()).get("/api/v1/audit/checkpoint").then().statusCode(200).extract().asString();
        Path cpFile = tmp.resolve("cp.json");
        Files.writeString(cpFile, cp);
        List<String> full = as(adminToken()).get("/api/v1/audit/export").then().extract().asString().lines().toList();
        Path truncated = tmp.resolve("truncated.jsonl");
        Files.write(truncated, full.subList(0, full.size() - 3));
        Processes.Result r = Processes.run(List.of(VERIFIER, "--checkpoint", cpFile.toString(), truncated.toString()));
        assertThat(r.exit()).as(r.output()).isEqualTo(1);
        assertThat(r.output()).contains("INVALID");
    }

    @Test
    void exportsCarryNoTokenNoMasterKeyAndNoStaticValue() throws Exception {
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            tokens.add(Api.tokenFor("deployer"));
        }
        tokens.add(adminToken());
        String masterKey = Files.readString(TestDataDir.dataDir().resolve("master.key")).trim();
        as(adminToken()).get("/api/v1/environments/prod").then().statusCode(200);
        for (String format : new String[] {"jsonl", "csv"}) {
            String export = as(adminToken()).get("/api/v1/audit/export?format=" + format).then().statusCode(200)
                    .extract().asString();
            for (String token : tokens) {
                assertThat(export).doesNotContain(token).doesNotContain(token.substring(22));
            }
            assertThat(export).doesNotContain(masterKey).doesNotContain("static-canary-value-7f3a");
        }
    }

    @Test
    void exportHonoursTheTimeWindowAndRefusesBadParameters() {
        String from = TestClock.now().plusSeconds(3600).toString();
        ExtractableResponse<Response> empty = as(adminToken()).get("/api/v1/audit/export?from=" + from)
                .then().statusCode(200).extract();
        assertThat(empty.asString()).isEmpty();
        assertThat(empty.header("X-Audit-Last-Seq")).isEqualTo("0");
        String csv = as(adminToken()).get("/api/v1/audit/export?format=csv&to=2000-01-01T00:00:00Z").then()
                .statusCode(200).extract().asString();
        assertThat(csv).isEqualTo("seq,time,actor,action,environment,target,outcome,requestId,sourceIp,details,prevHash,hash\r\n");
        as(adminToken()).get("/api/v1/audit/export?format=xml").then().statusCode(400);
        as(adminToken()).get("/api/v1/audit/export?from=yesterday").then().statusCode(400);
    }

    @Test
    void fiftyParallelMutationsLeaveAValidGapFreeChain() throws Exception {
        long before = headSeq();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Callable<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String name = Api.uniqueName("storm");
                calls.add(() -> as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "auditor"))
                        .post("/api/v1/principals").then().extract().statusCode());
            }
            for (Future<Integer> f : pool.invokeAll(calls)) {
                assertThat(f.get()).isEqualTo(201);
            }
        } finally {
            pool.shutdown();
        }
        var verify = as(adminToken()).get("/api/v1/audit/verify").then().statusCode(200).extract().jsonPath();
        assertThat(verify.getBoolean("valid")).isTrue();
        assertThat(verify.getLong("headSeq")).isGreaterThanOrEqualTo(before + 50);
        assertThat(verify.getLong("events")).isEqualTo(verify.getLong("headSeq"));
        assertThat(verify.<Object>get("firstInvalidSeq")).isNull();
    }

    private static long headSeq() {
        return as(adminToken()).get("/api/v1/audit/verify").then().statusCode(200).extract().jsonPath().getLong("headSeq");
    }

    private static List<String> replace(List<String> lines, int index, String from, String to) {
        List<String> copy = new ArrayList<>(lines);
        assertThat(copy.get(index)).contains(from);
        copy.set(index, copy.get(index).replace(from, to));
        return copy;
    }

    private void assertOffline(List<String> lines, int exit, String where) throws Exception {
        Path f = Files.createTempFile(tmp, "export-", ".jsonl");
        Files.write(f, lines);
        Processes.Result r = Processes.run(List.of(VERIFIER, f.toString()));
        assertThat(r.exit()).as(r.output()).isEqualTo(exit);
        if (where != null) {
            assertThat(r.output()).contains("INVALID " + where);
        }
    }
}
