package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * {@code tools/ltcs} run as a subprocess ({@code python3 tools/ltcs …}) against the packaged jar, started once:
 * every command on its success and refusal paths, the exit codes of the contract, the token rules, the fetch's
 * file guarantees (mode whatever the umask, 304 leaves the file alone, a symlink is refused, a killed fetch and
 * a corrupted body leave nothing behind), rotate --wait on COMPLETED and ROLLED_BACK, and the audit export's
 * offline verification. A stub server in this JVM plays a broken or stalling service where the real one cannot.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LtcsCliIT {

    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final String CLI_ENV = "cli";
    /** An environment whose grants and rotations wait for a second person. */
    private static final String TWO_ENV = "cli-approved";
    private static final Pattern PENDING = Pattern.compile("pending approval ([0-9a-f]{16}): ");

    @TempDir
    static Path tmp;
    static ServiceProcess service;
    static HttpServer health;
    static final AtomicInteger healthStatus = new AtomicInteger(200);
    static Path sleepFile;
    static Path adminToken;
    static Path deployToken;
    static Path auditorToken;
    static Path work;

    /** One CLI run: exit status, stdout, stderr. */
    record Run(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        work = Files.createDirectories(tmp.resolve("work"));
        Path policies = ServiceProcess.testPolicies(tmp, "prod", "staging");
        health = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        health.createContext("/health", exchange -> {
            exchange.sendResponseHeaders(healthStatus.get(), -1);
            exchange.close();
        });
        health.start();
        sleepFile = tmp.resolve("sleep");
        Files.writeString(sleepFile, "0\n");
        Path restart = tmp.resolve("restart.sh");
        Files.writeString(restart, "#!/bin/sh\nexec sleep \"$(cat '" + sleepFile + "')\"\n");
        // An environment with an app: its restart takes as long as the test says, its health answers what the test says.
        Files.writeString(policies.resolve("environments/" + CLI_ENV + ".yaml"), ""
                + "environment: " + CLI_ENV + "\n"
                + "envFile:\n"
                + "  path: /etc/lifetimecircle/" + CLI_ENV + ".env\n"
                + "  mode: \"0600\"\n"
                + "variables:\n"
                + "  LTC_ENV: " + CLI_ENV + "\n"
                + "secrets:\n"
                + "  LTC_SECRET_KEY:\n"
                + "    rotateEvery: P90D\n"
                + "app:\n"
                + "  restartCommand: [\"/bin/sh\", \"" + restart + "\"]\n"
                + "  healthUrl: http://127.0.0.1:" + health.getAddress().getPort() + "/health\n"
                + "  restartTimeout: PT30S\n"
                + "  healthTimeout: PT3S\n", StandardCharsets.UTF_8);
        Files.writeString(policies.resolve("environments/" + TWO_ENV + ".yaml"), ""
                + "environment: " + TWO_ENV + "\n"
                + "envFile:\n"
                + "  path: /etc/lifetimecircle/" + TWO_ENV + ".env\n"
                + "  mode: \"0600\"\n"
                + "variables:\n"
                + "  LTC_ENV: " + TWO_ENV + "\n"
                + "secrets:\n"
                + "  LTC_SECRET_KEY:\n"
                + "    rotateEvery: P90D\n"
                + "approvals:\n"
                + "  grants: true\n"
                + "  rotations: true\n", StandardCharsets.UTF_8);
        service = ServiceProcess.dev(tmp, tmp.resolve("data"), policies, tmp.resolve("data/root"))
                .log(tmp.resolve("service.log"))
                .startHealthy(ServiceProcess.START_DEADLINE);
        adminToken = tmp.resolve("data/bootstrap-admin.token");

        // The admin's jobs, through the CLI itself: principals, tokens (printed once, on stdout alone), grants.
        ok(admin("principal", "create", "deploy-bot", "deployer"));
        ok(admin("principal", "create", "auditor-1", "auditor"));
        deployToken = tokenFile("deploy-bot");
        auditorToken = tokenFile("auditor-1");
        ok(admin("grant", "deploy-bot", "prod", "env-file:read", "--ttl", "PT1H", "--reason", "ltcs it"));
        for (String env : List.of("prod", "staging", CLI_ENV)) {
            ok(admin("grant", "bootstrap-admin", env, "secret:rotate", "--ttl", "PT1H", "--reason", "ltcs it"));
        }
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
        if (health != null) {
            health.stop(0);
        }
    }

    // ------------------------------------------------------------------ admin commands and the token rules

    @Test
    @Order(1)
    void adminCommandsAnswerAndRefuseWithTheContractsExitCodes() throws Exception {
        Run dup = admin("principal", "create", "deploy-bot", "deployer");
        assertThat(dup.exit()).as(dup.all()).isEqualTo(3);
        assertThat(dup.err()).contains("409").contains("conflict");

        Run beyond = admin("grant", "deploy-bot", "prod", "secret:rotate", "--ttl", "PT1H", "--reason", "x");
        assertThat(beyond.exit()).as(beyond.all()).isEqualTo(3);
        assertThat(beyond.err()).contains("policy-violation");

        Run principals = ok(admin("principals"));
        assertThat(principals.out()).contains("NAME").contains("deploy-bot").contains("deployer");
        assertThat(ok(admin("principal", "show", "auditor-1")).out()).contains("auditor");

        Run grants = ok(admin("grants", "--environment", "prod"));
        assertThat(grants.out()).contains("deploy-bot").contains("env-file:read").contains("ltcs it");
        assertThat(ok(admin("grants", "--json")).out().strip()).startsWith("[");

        Run status = ok(admin("status"));
        assertThat(status.out()).contains("prod").contains("staging").contains("LTC_SECRET_KEY").contains("OK")
                .containsPattern("\\(in 89d \\d+h\\)");
        Run statusJson = ok(admin("status", "prod", "--json"));
        assertThat(statusJson.out()).contains("\"name\": \"prod\"").contains("\"rotationDueAt\"");
        Run unknown = admin("status", "nope");
        assertThat(unknown.exit()).isEqualTo(3);
        assertThat(unknown.err()).contains("not-found");

        Run review = ok(admin("access-review", "prod", "--permission", "env-file:read"));
        assertThat(review.out()).contains("deploy-bot").contains("bootstrap-admin");

        // A token of its own: listed, revoked, refused from then on.
        ok(admin("principal", "create", "temp-bot", "deployer"));
        Path temp = tokenFile("temp-bot");
        Run tokens = ok(admin("token", "list", "temp-bot"));
        String id = Files.readString(temp).strip().substring(5, 21);
        assertThat(tokens.out()).contains(id).doesNotContain(Files.readString(temp).strip());
        assertThat(ok(cli(temp, "status", "prod")).out()).contains("LTC_SECRET_KEY");
        ok(admin("token", "revoke", id));
        Run revoked = cli(temp, "status");
        assertThat(revoked.exit()).isEqualTo(3);
        assertThat(revoked.err()).contains("unauthorized");

        // Offboarding and a grant's revocation.
        Run disable = admin("principal", "disable", "temp-bot");
        assertThat(disable.exit()).isEqualTo(2);
        ok(admin("principal", "disable", "temp-bot", "--reason", "test over"));
        ok(admin("principal", "create", "grant-bot", "deployer"));
        Run g = ok(admin("grant", "grant-bot", "staging", "env-file:read", "--ttl", "PT10M", "--reason", "short", "--json"));
        String grantId = field(g.out(), "id");
        ok(admin("grant", "revoke", grantId, "--reason", "done"));
        assertThat(ok(admin("grants", "--principal", "grant-bot")).out()).doesNotContain(grantId);
        assertThat(ok(admin("grants", "--principal", "grant-bot", "--all")).out()).contains(grantId);

        // The env file written on the host: refused without an env-file:write grant, then written.
        Run noGrant = admin("write-env-file", "staging");
        assertThat(noGrant.exit()).isEqualTo(3);
        assertThat(noGrant.err()).contains("forbidden");
        ok(admin("grant", "bootstrap-admin", "staging", "env-file:write", "--ttl", "PT10M", "--reason", "write"));
        assertThat(ok(admin("write-env-file", "staging")).out()).contains("/etc/lifetimecircle/staging.env")
                .contains("LTC_SECRET_KEY:1").contains("hmac-sha256:");

        // A deployer may not manage principals: refused by the server, not by the CLI.
        Run forbidden = cli(deployToken, "principals");
        assertThat(forbidden.exit()).isEqualTo(3);
        assertThat(forbidden.err()).contains("403").contains("forbidden");
    }

    @Test
    @Order(2)
    void tokensNeverComeFromArgvAndAnOpenTokenFileIsRefused() throws Exception {
        String token = Files.readString(adminToken).strip();
        Run argv = run(Map.of(), null, "status", "--token", token);
        assertThat(argv.exit()).isEqualTo(2);
        assertThat(argv.all()).doesNotContain(token).contains("LTCS_TOKEN_FILE");
        Run positional = run(Map.of("LTCS_TOKEN_FILE", adminToken.toString()), null, "status", token);
        assertThat(positional.exit()).isEqualTo(2);
        assertThat(positional.all()).doesNotContain(token);

        Path open = work.resolve("open.token");
        Files.writeString(open, token + "\n");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        Run refused = cli(open, "status");
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("chmod 600 " + open).doesNotContain(token);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-------"));
        ok(cli(open, "status"));
        ok(run(Map.of(), null, "--token-file", open.toString(), "status"));
        ok(run(Map.of("LTCS_TOKEN", token), null, "status"));

        Run none = run(Map.of(), null, "status");
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("LTCS_TOKEN_FILE");
        Run bad = run(Map.of("LTCS_TOKEN", "ltcs_0123456789abcdef_wrong"), null, "status");
        assertThat(bad.exit()).isEqualTo(3);
        assertThat(bad.err()).contains("unauthorized");

        Run down = run(Map.of("LTCS_TOKEN_FILE", adminToken.toString(), "LTCS_URL", "http://127.0.0.1:1"), null,
                "status");
        assertThat(down.exit()).isEqualTo(4);
        assertThat(down.err()).contains("http://127.0.0.1:1");
        Run plain = run(Map.of("LTCS_TOKEN_FILE", adminToken.toString(), "LTCS_URL", "http://ltc.example.org"), null,
                "status");
        assertThat(plain.exit()).isEqualTo(2);
        assertThat(plain.err()).contains("SSH tunnel");
    }

    @Test
    @Order(3)
    void everyCommandHasHelpWithAnExample() throws Exception {
        List<String> commands = List.of("status", "rotate", "rollback", "import", "emergency", "rotation", "rotations",
                "versions", "fetch", "write-env-file", "preflight", "principal", "principals", "token", "grant", "grants",
                "access-review", "audit", "approvals", "approval", "approve", "deny", "incidents", "incident");
        Run top = ok(run(Map.of(), null, "--help"));
        for (String c : commands) {
            assertThat(top.out()).contains(c);
            Run help = ok(run(Map.of(), null, c, "--help"));
            assertThat(help.out()).as(c).contains("example:").contains("ltcs " + c);
        }
        Run missing = admin("rotate", "prod", "LTC_SECRET_KEY");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("--reason");
    }

    // ------------------------------------------------------------------ fetch

    @Test
    @Order(4)
    void fetchWritesTheExactModeWhateverTheUmaskAndLeavesACurrentFileAlone() throws Exception {
        Path dir = Files.createDirectories(work.resolve("deploy"));
        Path file = dir.resolve("prod.env");
        byte[] onHost = Files.readAllBytes(tmp.resolve("data/root/etc/lifetimecircle/prod.env"));

        Run written = ok(runUmask("022", tokenEnv(deployToken), null, "fetch", "prod", "-o", file.toString()));
        assertThat(written.out()).startsWith("written " + file).contains("LTC_SECRET_KEY:");
        assertThat(mode(file)).isEqualTo("rw-------");
        assertThat(Files.readAllBytes(file)).isEqualTo(onHost);

        // 304: not a byte, not the inode, not the mtime changes.
        Object inode = Files.getAttribute(file, "unix:ino");
        var mtime = Files.getLastModifiedTime(file);
        Run unchanged = ok(runUmask("022", tokenEnv(deployToken), null, "fetch", "prod", "-o", file.toString()));
        assertThat(unchanged.out()).startsWith("unchanged " + file);
        assertThat(Files.getAttribute(file, "unix:ino")).isEqualTo(inode);
        assertThat(Files.getLastModifiedTime(file)).isEqualTo(mtime);

        // --group under umask 077 (which would strip the group's read): 0640 and that group.
        String group = new String(new ProcessBuilder("id", "-gn").start().getInputStream().readAllBytes()).strip();
        Path grouped = dir.resolve("grouped.env");
        ok(runUmask("077", tokenEnv(deployToken), null, "fetch", "prod", "-o", grouped.toString(), "--group", group));
        assertThat(mode(grouped)).isEqualTo("rw-r-----");
        assertThat(Files.getAttribute(grouped, "posix:group").toString()).isEqualTo(group);
        Path explicit = dir.resolve("explicit.env");
        ok(runUmask("077", tokenEnv(deployToken), null, "fetch", "prod", "-o", explicit.toString(), "--mode", "0640"));
        assertThat(mode(explicit)).isEqualTo("rw-r-----");

        // A file from an earlier curl under umask 022 (0644) is replaced, not left readable as "unchanged".
        Path loose = dir.resolve("loose.env");
        Files.write(loose, onHost);
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(ok(runUmask("022", tokenEnv(deployToken), null, "fetch", "prod", "-o", loose.toString())).out())
                .startsWith("written");
        assertThat(mode(loose)).isEqualTo("rw-------");

        // A symbolic link at FILE: refused, and neither it nor what it points at is touched.
        Path victim = work.resolve("victim.txt");
        Files.writeString(victim, "not yours\n");
        Path link = dir.resolve("link.env");
        Files.createSymbolicLink(link, victim);
        Run symlink = cli(deployToken, "fetch", "prod", "-o", link.toString());
        assertThat(symlink.exit()).isEqualTo(2);
        assertThat(symlink.err()).contains("symbolic link");
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Files.readSymbolicLink(link)).isEqualTo(victim);
        assertThat(Files.readString(victim)).isEqualTo("not yours\n");

        // A refused request (no grant on staging) writes nothing.
        Run refused = cli(deployToken, "fetch", "staging", "-o", dir.resolve("staging.env").toString());
        assertThat(refused.exit()).isEqualTo(3);
        assertThat(refused.err()).contains("forbidden");
        assertThat(dir.resolve("staging.env")).doesNotExist();
        Run badMode = cli(deployToken, "fetch", "prod", "-o", file.toString(), "--mode", "0644");
        assertThat(badMode.exit()).isEqualTo(2);

        assertThat(names(dir)).containsExactlyInAnyOrder("prod.env", "grouped.env", "explicit.env", "loose.env",
                "link.env");
    }

    @Test
    @Order(5)
    void aCorruptedBodyOrAKilledFetchLeavesTheFileAsItWasAndNoTemporaryFile() throws Exception {
        HttpResponse<byte[]> real = HTTP.send(HttpRequest.newBuilder(URI.create(service.baseUrl()
                        + "/api/v1/environments/prod/env-file"))
                .header("Authorization", "Bearer " + Files.readString(deployToken).strip()).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(real.statusCode()).isEqualTo(200);
        byte[] body = real.body();
        String etag = real.headers().firstValue("ETag").orElseThrow();
        byte[] corrupted = body.clone();
        corrupted[corrupted.length / 2] ^= 0x01;

        Path dir = Files.createDirectories(work.resolve("stubbed"));
        Path file = dir.resolve("prod.env");
        Files.writeString(file, "OLD=1\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        Object inode = Files.getAttribute(file, "unix:ino");
        var mtime = Files.getLastModifiedTime(file);

        CountDownLatch release = new CountDownLatch(1);
        HttpServer stub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        stub.setExecutor(Executors.newCachedThreadPool());
        stub.createContext("/api/v1/environments/corrupt/env-file", exchange -> {
            exchange.getResponseHeaders().add("ETag", etag);
            exchange.sendResponseHeaders(200, corrupted.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(corrupted);
            }
        });
        stub.createContext("/api/v1/environments/stall/env-file", exchange -> stall(exchange, body, etag, release));
        stub.start();
        try {
            Map<String, String> env = new LinkedHashMap<>(tokenEnv(deployToken));
            env.put("LTCS_URL", "http://127.0.0.1:" + stub.getAddress().getPort());

            Run mismatch = run(env, null, "fetch", "corrupt", "-o", file.toString());
            assertThat(mismatch.exit()).as(mismatch.all()).isEqualTo(4);
            assertThat(mismatch.err()).contains("does not match its ETag");
            assertUntouched(file, inode, mtime);
            assertThat(names(dir)).containsExactly("prod.env");

            for (String signal : List.of("TERM", "KILL")) {
                CountDownLatch halfSent = new CountDownLatch(1);
                stalled.set(halfSent);
                Process p = start(env, "fetch", "stall", "-o", file.toString());
                assertThat(halfSent.await(30, TimeUnit.SECONDS)).as("the stub sent half the body").isTrue();
                new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                if (signal.equals("TERM")) {
                    assertThat(p.exitValue()).as("SIGTERM: the CLI says it stopped").isEqualTo(130);
                    assertThat(new String(p.getErrorStream().readAllBytes())).contains("left as it was")
                            .doesNotContain("Traceback");
                }
                assertUntouched(file, inode, mtime);
                assertThat(names(dir)).as("after SIG" + signal).containsExactly("prod.env");
            }
        } finally {
            release.countDown();
            stub.stop(0);
        }
    }

    static final java.util.concurrent.atomic.AtomicReference<CountDownLatch> stalled =
            new java.util.concurrent.atomic.AtomicReference<>();

    /** Sends the headers and half the body, says so, then stalls until released. */
    private static void stall(HttpExchange exchange, byte[] body, String etag, CountDownLatch release)
            throws IOException {
        exchange.getResponseHeaders().add("ETag", etag);
        exchange.sendResponseHeaders(200, body.length);
        OutputStream out = exchange.getResponseBody();
        out.write(Arrays.copyOf(body, body.length / 2));
        out.flush();
        stalled.get().countDown();
        try {
            release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exchange.close();
    }

    // ------------------------------------------------------------------ rotations

    @Test
    @Order(6)
    void rotateWaitShowsTheStepsAndExitsByTheOutcome() throws Exception {
        Files.writeString(sleepFile, "0\n");
        healthStatus.set(200);
        Run completed = admin("rotate", CLI_ENV, "LTC_SECRET_KEY", "--reason", "ltcs it", "--wait");
        assertThat(completed.exit()).as(completed.all()).isZero();
        assertThat(completed.out()).contains("write-env-file").contains("DONE").containsPattern("(?m)^COMPLETED");
        Run go = ok(admin("preflight", CLI_ENV));
        assertThat(go.out()).contains("app-health").containsPattern("(?m)^cli: GO");

        healthStatus.set(503);
        Run rolledBack = admin("rotate", CLI_ENV, "LTC_SECRET_KEY", "--reason", "unhealthy app", "--wait");
        assertThat(rolledBack.exit()).as(rolledBack.all()).isEqualTo(1);
        assertThat(rolledBack.out()).containsPattern("(?m)^ROLLED_BACK");
        Run noGo = admin("preflight", CLI_ENV);
        assertThat(noGo.exit()).as("a deploy gate").isEqualTo(1);
        assertThat(noGo.out()).contains("NO-GO");
        healthStatus.set(200);

        // Without --wait: accepted, and how to follow it; then followed.
        Run accepted = ok(admin("rotate", "prod", "LTC_SECRET_KEY", "--reason", "no wait"));
        Matcher m = Pattern.compile("ltcs rotation ([0-9a-f]{16})").matcher(accepted.out());
        assertThat(m.find()).as(accepted.out()).isTrue();
        assertThat(ok(admin("rotation", m.group(1), "--wait")).out()).contains("COMPLETED");
        assertThat(ok(admin("rotation", m.group(1))).out()).contains("promote");
        Run busy = admin("rollback", "prod", "LTC_SECRET_KEY", "--reason", "put it back", "--wait");
        assertThat(busy.exit()).as(busy.all()).isZero();
        assertThat(ok(admin("versions", "prod", "LTC_SECRET_KEY")).out()).contains("CURRENT").contains("RETIRED");
        assertThat(ok(admin("rotations", "--environment", "prod")).out()).contains("ROLLBACK").contains("MANUAL");
        Run noRight = cli(auditorToken, "rotate", "prod", "LTC_SECRET_KEY", "--reason", "x", "--wait");
        assertThat(noRight.exit()).isEqualTo(3);
        assertThat(noRight.err()).contains("forbidden");
    }

    @Test
    @Order(7)
    void ctrlCStopsWaitingNeverTheRotation() throws Exception {
        Files.writeString(sleepFile, "4\n"); // the app's restart takes 4 s
        healthStatus.set(200);
        Path out = work.resolve("wait.out");
        Process p = start(tokenEnv(adminToken), out, "rotate", CLI_ENV, "LTC_SECRET_KEY", "--reason", "ctrl-c", "--wait");
        // The job's "start" step is journaled when it begins; the app's steps (write, restart, health) are
        // journaled together once the health check is done, so they come after the 4 s restart.
        Pattern started = Pattern.compile("(?m)^  \\d\\d:\\d\\d:\\d\\d  start ");
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!started.matcher(Files.readString(out)).find() && System.nanoTime() < end) {
            Thread.sleep(50); // polling interval of a deadline loop
        }
        assertThat(Files.readString(out)).containsPattern(started).doesNotContain("COMPLETED");
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.exitValue()).as(err).isEqualTo(130);
        Matcher m = Pattern.compile("ltcs rotation ([0-9a-f]{16})").matcher(err);
        assertThat(m.find()).as(err).isTrue();
        assertThat(err).doesNotContain("Traceback");
        Files.writeString(sleepFile, "0\n");
        Run after = ok(admin("rotation", m.group(1), "--wait"));
        assertThat(after.out()).containsPattern("(?m)^COMPLETED");
    }

    @Test
    @Order(8)
    void importReadsStdinAndEmergencyWaits() throws Exception {
        ok(admin("grant", "bootstrap-admin", "prod", "env-file:read", "--ttl", "PT1H", "--reason", "import"));
        String value = "imported-" + "A".repeat(55);
        Run imported = run(tokenEnv(adminToken), value + "\n", "import", "prod", "LTC_SECRET_KEY", "--reason",
                "adopt", "--wait");
        assertThat(imported.exit()).as(imported.all()).isZero();
        assertThat(imported.all()).doesNotContain(value);
        Path file = work.resolve("imported.env");
        ok(cli(deployToken, "fetch", "prod", "-o", file.toString()));
        assertThat(Files.readString(file)).contains("LTC_SECRET_KEY=" + value + "\n");

        Run tooShort = run(tokenEnv(adminToken), "short-value", "import", "prod", "LTC_SECRET_KEY", "--reason", "x");
        assertThat(tooShort.exit()).isEqualTo(3);
        assertThat(tooShort.err()).contains("policy-violation").doesNotContain("short-value");
        Run empty = run(tokenEnv(adminToken), "", "import", "prod", "LTC_SECRET_KEY", "--reason", "x");
        assertThat(empty.exit()).isEqualTo(2);

        Run emergency = admin("emergency", "staging", "--reason", "key in a log", "--incident", "INC-1", "--wait");
        assertThat(emergency.exit()).as(emergency.all()).isZero();
        assertThat(emergency.out()).contains("revoke-versions").containsPattern("(?m)^COMPLETED")
                .contains("incident INC-1");
        Run badIncident = admin("emergency", "staging", "--reason", "x", "--incident", "no spaces allowed");
        assertThat(badIncident.exit()).isEqualTo(3);
        assertThat(badIncident.err()).contains("invalid-request");
    }

    // ------------------------------------------------------------------ audit

    @Test
    @Order(9)
    void auditExportVerifiesOfflineAndATamperedFileFails() throws Exception {
        Path jsonl = work.resolve("audit.jsonl");
        Run export = cli(auditorToken, "audit", "export", "-o", jsonl.toString());
        assertThat(export.exit()).as(export.all()).isZero();
        assertThat(export.out()).contains("OK: ").contains("checkpoint seq=").contains("end matches --expect-head");
        assertThat(work.resolve("audit.jsonl.checkpoint.json")).exists();
        assertThat(mode(jsonl)).isEqualTo("rw-------");
        Path csv = work.resolve("audit.csv");
        Run csvExport = cli(auditorToken, "audit", "export", "-o", csv.toString());
        assertThat(csvExport.exit()).as(csvExport.all()).isZero();
        assertThat(csvExport.out()).contains("OK: ");

        assertThat(ok(run(Map.of(), null, "audit", "verify", jsonl.toString())).out()).contains("OK: ");
        Path pem = work.resolve("audit-signing.pem");
        Files.writeString(pem, field(Files.readString(work.resolve("audit.jsonl.checkpoint.json")), "publicKeyPem"));
        ok(run(Map.of(), null, "audit", "verify", jsonl.toString(), "--public-key", pem.toString()));
        // The review's form: pinned key, strict, and the previous review's checkpoint still inside the new export.
        Run strict = cli(auditorToken, "audit", "export", "-o", work.resolve("review-2.jsonl").toString(),
                "--public-key", pem.toString(), "--strict",
                "--checkpoint", work.resolve("audit.jsonl.checkpoint.json").toString());
        assertThat(strict.exit()).as(strict.all()).isZero();
        assertThat(strict.out().split("verified with the pinned key", -1)).hasSize(3);

        List<String> lines = new ArrayList<>(Files.readAllLines(jsonl));
        int changed = 2;
        while (!lines.get(changed).contains("\"outcome\":\"SUCCESS\"")) {
            changed++;
        }
        lines.set(changed, lines.get(changed).replace("\"outcome\":\"SUCCESS\"", "\"outcome\":\"FAILED\""));
        Path tampered = work.resolve("tampered.jsonl");
        Files.write(tampered, lines);
        Run invalid = run(Map.of(), null, "audit", "verify", tampered.toString(), "--checkpoint",
                work.resolve("audit.jsonl.checkpoint.json").toString());
        assertThat(invalid.exit()).as(invalid.all()).isEqualTo(1);
        assertThat(invalid.out()).contains("INVALID at seq " + (changed + 1));

        Run missing = run(Map.of(), null, "audit", "verify", work.resolve("nope.jsonl").toString());
        assertThat(missing.exit()).isEqualTo(2);
        Run forbidden = cli(deployToken, "audit", "export", "-o", work.resolve("x.jsonl").toString());
        assertThat(forbidden.exit()).isEqualTo(3);
        assertThat(forbidden.err()).contains("forbidden");

        // An export that does not verify against its checkpoint exits 1: a stub serves the real checkpoint
        // and the tampered file with the real headers.
        byte[] checkpoint = Files.readAllBytes(work.resolve("audit.jsonl.checkpoint.json"));
        byte[] forged = Files.readAllBytes(tampered);
        HttpServer stub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        stub.createContext("/api/v1/audit/checkpoint", exchange -> answer(exchange, checkpoint, Map.of()));
        stub.createContext("/api/v1/audit/export", exchange -> answer(exchange, forged, Map.of(
                "X-Audit-Last-Seq", Integer.toString(lines.size()),
                "X-Audit-Chain-Start-Prev-Hash", "0".repeat(64))));
        stub.start();
        try {
            Map<String, String> env = new LinkedHashMap<>(tokenEnv(auditorToken));
            env.put("LTCS_URL", "http://127.0.0.1:" + stub.getAddress().getPort());
            Run bad = run(env, null, "audit", "export", "-o", work.resolve("forged.jsonl").toString());
            assertThat(bad.exit()).as(bad.all()).isEqualTo(1);
            assertThat(bad.out()).contains("INVALID");
        } finally {
            stub.stop(0);
        }
    }

    // ------------------------------------------------------------------ two-person approval

    @Test
    @Order(10)
    void grantsAndRotationsWaitForASecondPersonAndEmergenciesForAReview() throws Exception {
        ok(admin("principal", "create", "sec-1", "security-engineer"));
        ok(admin("principal", "create", "sec-2", "security-engineer"));
        Path sec1 = tokenFile("sec-1");
        Path sec2 = tokenFile("sec-2");

        // A grant: pending, nothing granted yet; its requester cannot approve it; another person can.
        Run requested = ok(cli(sec1, "grant", "deploy-bot", TWO_ENV, "env-file:read", "--ttl", "PT1H",
                "--reason", "release 2.0"));
        String grantApproval = pendingId(requested);
        assertThat(requested.out()).contains("ltcs approve " + grantApproval + " --reason");
        assertThat(ok(admin("grants", "--principal", "deploy-bot", "--environment", TWO_ENV)).out())
                .doesNotContain("env-file:read");
        Path file = work.resolve("two.env");
        Run notYet = cli(deployToken, "fetch", TWO_ENV, "-o", file.toString());
        assertThat(notYet.exit()).as(notYet.all()).isEqualTo(3);
        assertThat(notYet.err()).contains("forbidden");
        assertThat(ok(admin("approvals", "--environment", TWO_ENV, "--status", "PENDING")).out())
                .contains(grantApproval).contains("GRANT").contains("PENDING").contains("sec-1");

        Run own = cli(sec1, "approve", grantApproval, "--reason", "my own");
        assertThat(own.exit()).as(own.all()).isEqualTo(3);
        assertThat(own.err()).contains("403").contains("forbidden");
        Run badId = cli(sec2, "approve", grantApproval.toUpperCase(), "--reason", "x");
        assertThat(badId.exit()).isEqualTo(2);

        Run approved = ok(admin("approve", grantApproval, "--reason", "change ticket checked"));
        Matcher g = Pattern.compile("approved " + grantApproval + ": grant ([0-9a-f]{16}) in force: deploy-bot may "
                + "env-file:read on " + TWO_ENV).matcher(approved.out());
        assertThat(g.find()).as(approved.out()).isTrue();
        assertThat(ok(cli(deployToken, "fetch", TWO_ENV, "-o", file.toString())).out()).startsWith("written");
        assertThat(ok(admin("grants", "--environment", TWO_ENV)).out()).contains(g.group(1))
                .contains("sec-1, approved by bootstrap-admin");
        Run again = cli(sec2, "approve", grantApproval, "--reason", "twice");
        assertThat(again.exit()).as(again.all()).isEqualTo(3);
        assertThat(again.err()).contains("409").contains("conflict");
        assertThat(ok(cli(sec2, "approval", grantApproval)).out()).contains("APPROVED").contains("bootstrap-admin");

        // Rotation rights on the environment are grants too: each approved by someone who is not its grantee.
        Run toSelf = admin("approve", pendingId(ok(cli(sec1, "grant", "bootstrap-admin", TWO_ENV, "secret:rotate",
                "--ttl", "PT1H", "--reason", "rotate"))), "--reason", "to myself");
        assertThat(toSelf.exit()).as(toSelf.all()).isEqualTo(3);
        assertThat(toSelf.err()).contains("forbidden");
        String adminGrant = pendingId(ok(admin("approvals", "--environment", TWO_ENV, "--status", "PENDING")).out());
        ok(cli(sec2, "approve", adminGrant, "--reason", "ok"));
        ok(cli(sec2, "approve", pendingId(ok(admin("grant", "sec-1", TWO_ENV, "secret:rotate", "--ttl", "PT1H",
                "--reason", "rotate"))), "--reason", "ok"));

        // A rotation: pending (--wait does not wait for it), nothing rotated; it runs once another person approves.
        Run rotate = ok(cli(sec1, "rotate", TWO_ENV, "LTC_SECRET_KEY", "--reason", "planned", "--wait"));
        String rotationApproval = pendingId(rotate);
        assertThat(rotate.out()).contains("MANUAL");
        assertThat(rotate.err()).contains("--wait does not wait for an approval");
        assertThat(ok(admin("versions", TWO_ENV, "LTC_SECRET_KEY")).out()).doesNotContain("v2");
        Run ownRotation = cli(sec1, "approve", rotationApproval, "--reason", "mine");
        assertThat(ownRotation.exit()).as(ownRotation.all()).isEqualTo(3);
        assertThat(ownRotation.err()).contains("forbidden");
        Run ran = ok(admin("approve", rotationApproval, "--reason", "planned change", "--wait"));
        assertThat(ran.out()).contains("approved " + rotationApproval + ": rotation ")
                .containsPattern("(?m)^COMPLETED.*MANUAL " + TWO_ENV + "/LTC_SECRET_KEY v1 -> v2");
        Matcher r = Pattern.compile("rotation ([0-9a-f]{16}) started").matcher(ran.out());
        assertThat(r.find()).as(ran.out()).isTrue();
        assertThat(ok(admin("rotation", r.group(1))).out()).contains("approved by bootstrap-admin")
                .contains(rotationApproval).contains("requested by sec-1");
        assertThat(ok(admin("versions", TWO_ENV, "LTC_SECRET_KEY")).out()).containsPattern("v2\\s+CURRENT");

        // Denied: nothing happens, and it cannot be approved afterwards; a requester withdraws its own.
        String rollback = pendingId(ok(cli(sec1, "rollback", TWO_ENV, "LTC_SECRET_KEY", "--reason", "undo")));
        assertThat(ok(admin("deny", rollback, "--reason", "no need")).out())
                .startsWith("denied " + rollback + ": ").contains("nothing was done");
        Run late = admin("approve", rollback, "--reason", "changed my mind");
        assertThat(late.exit()).as(late.all()).isEqualTo(3);
        assertThat(late.err()).contains("conflict");
        assertThat(ok(admin("versions", TWO_ENV, "LTC_SECRET_KEY")).out()).containsPattern("v2\\s+CURRENT");
        String mine = pendingId(ok(cli(sec1, "grant", "deploy-bot", TWO_ENV, "env-file:read", "--ttl", "PT1H",
                "--reason", "by mistake")));
        assertThat(ok(cli(sec1, "deny", mine, "--reason", "by mistake")).out()).startsWith("withdrawn " + mine);
        assertThat(ok(admin("approvals", "--environment", TWO_ENV, "--status", "DENIED")).out())
                .contains(rollback).contains(mine);
        assertThat(ok(admin("approvals", "--environment", TWO_ENV, "--status", "PENDING")).out().strip())
                .as("nothing left waiting").doesNotContain("\n");

        // An emergency never waits, but a second person reviews it; not the one who ran it.
        Run emergency = cli(sec1, "emergency", TWO_ENV, "--reason", "key in a log", "--incident", "INC-2", "--wait");
        assertThat(emergency.exit()).as(emergency.all()).isZero();
        assertThat(emergency.out()).containsPattern("(?m)^COMPLETED");
        assertThat(ok(admin("incidents", "--environment", TWO_ENV)).out()).containsPattern("INC-2 .*REQUIRED")
                .contains("awaits a second person's review");
        assertThat(ok(admin("incidents", "--environment", "staging")).out()).containsPattern("INC-1 .*COMPLETED\\s+-");
        Run self = cli(sec1, "incident", "review", "INC-2", "--reason", "mine");
        assertThat(self.exit()).as(self.all()).isEqualTo(3);
        assertThat(self.err()).contains("forbidden");
        assertThat(ok(cli(sec2, "incident", "review", "INC-2", "--reason", "leak confirmed")).out())
                .contains("reviewed by sec-2").contains("leak confirmed");
        assertThat(ok(admin("incidents", "--environment", TWO_ENV)).out()).containsPattern("INC-2 .*by sec-2")
                .doesNotContain("awaits");
        Run noReview = admin("incident", "review", "INC-1", "--reason", "staging has no approvals");
        assertThat(noReview.exit()).as(noReview.all()).isEqualTo(3);
        assertThat(noReview.err()).contains("conflict");
        Run badIncident = admin("incident", "review", "no spaces", "--reason", "x");
        assertThat(badIncident.exit()).isEqualTo(2);
    }

    private static String pendingId(Run r) {
        return pendingId(r.out());
    }

    /** The id of the first pending approval a command printed (or an approvals table lists). */
    private static String pendingId(String out) {
        Matcher m = PENDING.matcher(out);
        if (m.find()) {
            return m.group(1);
        }
        Matcher row = Pattern.compile("(?m)^([0-9a-f]{16})\\s+\\S+\\s+\\S+\\s+PENDING").matcher(out);
        assertThat(row.find()).as("a pending approval in " + out).isTrue();
        return row.group(1);
    }

    // ------------------------------------------------------------------ helpers

    private static void answer(HttpExchange exchange, byte[] body, Map<String, String> headers) throws IOException {
        headers.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static void assertUntouched(Path file, Object inode, java.nio.file.attribute.FileTime mtime)
            throws IOException {
        assertThat(Files.readString(file)).isEqualTo("OLD=1\n");
        assertThat(Files.getAttribute(file, "unix:ino")).isEqualTo(inode);
        assertThat(Files.getLastModifiedTime(file)).isEqualTo(mtime);
    }

    private static String mode(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }

    /** A JSON string field, read with a pattern (enough for ids and a PEM). */
    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        assertThat(m.find()).as(name + " in " + json).isTrue();
        return m.group(1).replace("\\n", "\n");
    }

    private static Path tokenFile(String principal) throws Exception {
        Run created = ok(admin("token", "create", principal, "--ttl", "PT1H"));
        String token = created.out().strip();
        assertThat(token).startsWith("ltcs_").doesNotContain("\n");
        assertThat(created.err()).contains("shown only now");
        Path file = tmp.resolve(principal + ".token");
        Files.writeString(file, token + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static Map<String, String> tokenEnv(Path tokenFile) {
        return Map.of("LTCS_TOKEN_FILE", tokenFile.toString());
    }

    private static Run admin(String... args) throws Exception {
        return cli(adminToken, args);
    }

    private static Run cli(Path tokenFile, String... args) throws Exception {
        return run(tokenEnv(tokenFile), null, args);
    }

    private static Run ok(Run r) {
        assertThat(r.exit()).as(r.all()).isZero();
        return r;
    }

    private static Run run(Map<String, String> env, String stdin, String... args) throws Exception {
        return runUmask(null, env, stdin, args);
    }

    /** Runs {@code python3 tools/ltcs ARGS}, optionally under a umask; never a traceback for an expected failure. */
    private static Run runUmask(String umask, Map<String, String> env, String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (umask != null) {
            cmd.addAll(List.of("/bin/sh", "-c", "umask " + umask + " && exec \"$@\"", "sh"));
        }
        cmd.addAll(List.of("python3", "tools/ltcs"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        environment(pb, env);
        Path out = Files.createTempFile(work, "out-", ".txt");
        Path err = Files.createTempFile(work, "err-", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        }
        Process p = pb.start();
        if (stdin != null) {
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("ltcs " + String.join(" ", args) + " still running after " + DEADLINE);
        }
        Run r = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        assertThat(r.err()).as("ltcs " + String.join(" ", args)).doesNotContain("Traceback");
        return r;
    }

    private static Process start(Map<String, String> env, String... args) throws IOException {
        return start(env, null, args);
    }

    private static Process start(Map<String, String> env, Path out, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("python3", "tools/ltcs"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        environment(pb, env);
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        if (out != null) {
            pb.redirectOutput(out.toFile());
        } else {
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        }
        return pb.start();
    }

    private static void environment(ProcessBuilder pb, Map<String, String> env) {
        Map<String, String> e = pb.environment();
        e.keySet().removeIf(k -> k.startsWith("LTCS_"));
        e.put("LTCS_URL", service.baseUrl());
        e.putAll(env);
    }
}
