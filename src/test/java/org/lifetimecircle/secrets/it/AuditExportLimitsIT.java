package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.as;
import static org.lifetimecircle.secrets.testing.Rotations.awaitFinished;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.audit.ChainHash;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * Audit exports whose clients do not read (raw sockets with a small receive buffer, against the
 * packaged jar): at most two run at a time, the rest get 429 with Retry-After; while two hang,
 * authentication, a fetch, a rotation and /health go on; a stalled export is cut off and its slot
 * released after the write timeout.
 */
class AuditExportLimitsIT {

    /** About 20 MB of JSONL: far more than socket buffers and the server's write queue hold. */
    private static final int SEED_EVENTS = 30_000;

    @TempDir
    Path tmp;
    Path data;
    Path policies;
    int starts;

    @BeforeEach
    void layout() throws IOException {
        data = tmp.resolve("data");
        policies = ServiceProcess.testPolicies(tmp, "prod");
    }

    @Test
    void twoStalledExportsAtMostAndTheyNeitherStarveOthersNorHoldOnForever() throws Exception {
        try (ServiceProcess first = start()) {
            assertThat(first.stop()).isIn(0, 143);
        }
        seed(SEED_EVENTS);
        try (ServiceProcess service = start()) {
            String admin = token();
            for (String permission : List.of("env-file:read", "secret:rotate")) {
                Response g = as(service, admin).contentType(ContentType.JSON)
                        .body(Map.of("principal", "bootstrap-admin",
                        "environment", "prod", "permission", permission, "ttl", "PT1H", "reason", "export limits test"))
                        .post("/api/v1/grants");
                assertThat(g.statusCode()).as(g.asString()).isEqualTo(201);
            }

            List<Socket> stalled = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    Socket s = stalledExport(service, admin);
                    stalled.add(s);
                }
                // Both asked at once, checked afterwards: the stalled exports are cut off 3 s after they stall.
                Response third = as(service, admin).get("/api/v1/audit/export?format=jsonl");
                Response verify = as(service, admin).get("/api/v1/audit/verify");
                assertThat(third.statusCode()).as("a third export at once").isEqualTo(429);
                assertThat(third.header("Retry-After")).isNotBlank();
                assertThat(third.header("Content-Type")).startsWith("application/problem+json");
                assertThat(third.jsonPath().getString("code")).isEqualTo("too-many-requests");
                assertThat(verify.statusCode()).as(verify.asString()).isEqualTo(429);
                assertThat(verify.header("Retry-After")).isNotBlank();

                // Everyone else goes on while both hang.
                Instant t0 = Instant.now();
                Response fetch = as(service, admin).get("/api/v1/environments/prod/env-file");
                assertThat(fetch.statusCode()).as(fetch.asString()).isEqualTo(200);
                assertThat(service.get("/health").orElseThrow().statusCode()).isEqualTo(200);
                Response rotation = as(service, admin).contentType(ContentType.JSON)
                        .body(Map.of("reason", "while exports hang"))
                        .post("/api/v1/environments/prod/secrets/LTC_SECRET_KEY/rotations");
                assertThat(rotation.statusCode()).as(rotation.asString()).isEqualTo(202);
                String status = awaitFinished(service, admin, rotation.jsonPath().getString("id")).getString("status");
                assertThat(status).isEqualTo("COMPLETED");
                assertThat(Duration.between(t0, Instant.now())).as("fetch, health and a rotation")
                        .isLessThan(Duration.ofSeconds(10));

                // The write timeout (3 s here) cuts the stalled clients off and frees their slots.
                Response later = Poll.until("a verification after the cut-off", Duration.ofSeconds(40),
                        () -> as(service, admin).get("/api/v1/audit/verify"), r -> r.statusCode() != 429,
                        Response::asString);
                assertThat(later.statusCode()).as("a verification after the stalled exports were cut off: %s",
                        later.asString()).isEqualTo(200);
                assertThat(later.jsonPath().getBoolean("valid")).isTrue();
                Response export = as(service, admin).get("/api/v1/audit/export?format=jsonl");
                assertThat(export.statusCode()).isEqualTo(200);
                assertThat(export.asByteArray().length).isGreaterThan(SEED_EVENTS * 100);
            } finally {
                for (Socket s : stalled) {
                    s.close();
                }
            }
            assertThat(service.output()).contains("cut off");
        }
    }

    /** Sends an export request on a raw socket, reads the response head only (200), and then nothing. */
    private static Socket stalledExport(ServiceProcess service, String token) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", service.port()), 2000);
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("GET /api/v1/audit/export?format=jsonl HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("response head so far: %s", head).isNotNegative();
            head.write(b);
        }
        assertThat(head.toString(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 200");
        return s;
    }

    /** Appends events continuing the chain (service stopped), each with a few hundred bytes of details. */
    private void seed(int count) throws Exception {
        try (Connection c = ServiceProcess.database(data)) {
            c.setAutoCommit(false);
            long seq;
            String prev;
            try (PreparedStatement ps = c.prepareStatement("select seq, hash from audit_event order by seq desc limit 1");
                 ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                seq = rs.getLong(1);
                prev = rs.getString(2);
            }
            String details = ChainHash.canonicalDetails(Map.of("note", "x".repeat(400)));
            try (PreparedStatement ins = c.prepareStatement("insert into audit_event (seq, time, actor, action, "
                    + "environment, target, outcome, request_id, source_ip, details, prev_hash, hash) "
                    + "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                String time = ChainHash.time(Instant.now());
                for (int i = 0; i < count; i++) {
                    seq++;
                    String hash = ChainHash.hash(seq, time, "seed", "environment.list", null, null, "SUCCESS", null,
                            "127.0.0.1", details, prev);
                    ins.setLong(1, seq);
                    ins.setString(2, time);
                    ins.setString(3, "seed");
                    ins.setString(4, "environment.list");
                    ins.setString(5, null);
                    ins.setString(6, null);
                    ins.setString(7, "SUCCESS");
                    ins.setString(8, null);
                    ins.setString(9, "127.0.0.1");
                    ins.setString(10, details);
                    ins.setString(11, prev);
                    ins.setString(12, hash);
                    ins.addBatch();
                    prev = hash;
                }
                ins.executeBatch();
            }
            c.commit();
        }
    }

    private String token() throws IOException {
        return Files.readString(data.resolve("bootstrap-admin.token")).trim();
    }

    private ServiceProcess start() {
        return ServiceProcess.dev(tmp, data, policies, data.resolve("root"))
                .property("ltc-secrets.audit.export-write-timeout", "PT3S")
                .log(tmp.resolve("service-" + (++starts) + ".log"))
                .startHealthy(ServiceProcess.START_DEADLINE);
    }
}
