package org.lifetimecircle.secrets.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.Processes;

/** demo-app/ itself: started by its restart script, it reads the env file at start and refuses a short key. */
class DemoAppTest {

    private static final String SCRIPT = Path.of("demo-app/restart.sh").toAbsolutePath().toString();
    private static final String GOOD_KEY = "k3y-Of-Sixty-Four-base64url-Characters_0123456789abcdefghijklmnop";

    @TempDir
    Path tmp;

    @AfterEach
    void stopTheApp() throws Exception {
        Path pid = tmp.resolve("state/demo.pid");
        if (Files.exists(pid)) {
            ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).ifPresent(ProcessHandle::destroy);
        }
    }

    @Test
    void itRefusesToStartWithAKeyShorterThanThirtyTwoCharacters() throws Exception {
        String shortKey = "only-31-characters-long-abcdefg";
        assertThat(shortKey).hasSize(31);
        Path env = envFile("LTC_ENV=demo\nLTC_SECRET_KEY=" + shortKey + "\n");

        Processes.Result app = Processes.run(List.of("python3", "demo-app/app.py", env.toString(), "1"));
        assertThat(app.exit()).isEqualTo(78);
        assertThat(app.output()).contains("refusing to start").contains("31 characters").doesNotContain(shortKey);

        // Through the restart command, as a rotation runs it: the restart step fails at once.
        Processes.Result restart = Processes.run(List.of(SCRIPT, env.toString(), Integer.toString(freePort()),
                tmp.resolve("state").toString()));
        assertThat(restart.exit()).isEqualTo(1);
        assertThat(restart.output()).contains("did not start").contains("refusing to start").doesNotContain(shortKey);
        assertThat(tmp.resolve("state/demo.pid")).doesNotExist();
    }

    @Test
    void itRefusesToStartWithoutAKey() throws Exception {
        Processes.Result app = Processes.run(List.of("python3", "demo-app/app.py", envFile("LTC_ENV=demo\n").toString(), "1"));
        assertThat(app.exit()).isEqualTo(78);
        assertThat(app.output()).contains("refusing to start").contains("0 characters");
    }

    @Test
    void aRestartReplacesTheRunningInstanceWhichReadsTheFileAtStart() throws Exception {
        int port = freePort();
        Path env = envFile("LTC_ENV=demo\nLTC_SECRET_KEY=" + GOOD_KEY + "\n");
        List<String> restart = List.of(SCRIPT, env.toString(), Integer.toString(port), tmp.resolve("state").toString());
        Processes.Result first = Processes.run(restart);
        assertThat(first.exit()).as(first.output()).isZero();
        long firstPid = Long.parseLong(Files.readString(tmp.resolve("state/demo.pid")).trim());
        assertThat(health(port)).contains(DemoAppRotationTest.fingerprint(GOOD_KEY));

        String newKey = GOOD_KEY.replace('k', 'K');
        Files.writeString(env, "LTC_ENV=demo\nLTC_SECRET_KEY=" + newKey + "\n");
        assertThat(health(port)).as("read at start only").contains(DemoAppRotationTest.fingerprint(GOOD_KEY));
        Processes.Result second = Processes.run(restart);
        assertThat(second.exit()).as(second.output()).isZero();
        assertThat(second.output()).contains("demo-app demo restarted");
        assertThat(Long.parseLong(Files.readString(tmp.resolve("state/demo.pid")).trim())).isNotEqualTo(firstPid);
        assertThat(running(firstPid)).isFalse();
        assertThat(health(port)).contains(DemoAppRotationTest.fingerprint(newKey)).doesNotContain(newKey);
    }

    private Path envFile(String content) throws Exception {
        Path env = tmp.resolve("demo.env");
        Files.writeString(env, "# ltc-secrets env file: demo\n" + content);
        return env;
    }

    private static String health(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** Alive and not a zombie (a stopped instance waits for init to reap it, which a container may never do). */
    static boolean running(long pid) throws Exception {
        Path stat = Path.of("/proc/" + pid + "/stat");
        if (!Files.exists(stat)) {
            return false;
        }
        String s = Files.readString(stat);
        return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
