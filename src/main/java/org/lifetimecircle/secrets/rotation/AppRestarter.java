package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.lifetimecircle.secrets.policy.AppPolicy;

/**
 * Restarts the application that reads the env file and waits for it to answer healthy. The command
 * is run as an argument vector (no shell unless the policy's vector names one), bounded by
 * {@code restartTimeout}; its output is kept short and anything that looks like a secret is removed
 * before it goes into a step's detail.
 */
@ApplicationScoped
public class AppRestarter {

    /** How a step went: ok or not, and a short detail safe to journal. */
    public record Outcome(boolean ok, String detail) {
    }

    private static final int MAX_OUTPUT = 2048;
    // Long unbroken runs of key-like characters: generated secrets, tokens, keys. Removed, not shortened.
    private static final Pattern SECRET_LIKE = Pattern.compile("[A-Za-z0-9_+/=.:-]{20,}");
    private static final Duration POLL = Duration.ofMillis(200);

    // HTTP/1.1: the JDK client otherwise offers an h2c upgrade (Upgrade: h2c), which uvicorn 0.17
    // answers with 400 — every health check failed and every rotation rolled back against it.
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    public Outcome restart(AppPolicy app) {
        Process process;
        try {
            process = new ProcessBuilder(app.restartCommand()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Outcome(false, "could not start " + app.restartCommand().get(0) + ": " + e.getClass().getSimpleName());
        }
        OutputTail output = new OutputTail(process.getInputStream());
        output.start();
        try {
            if (!process.waitFor(app.restartTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                return new Outcome(false, "timed out after " + app.restartTimeout() + " and was killed" + output.text());
            }
            output.join(1000); // let the reader take the last of the output
            int exit = process.exitValue();
            return new Outcome(exit == 0, "exit " + exit + output.text());
        } catch (InterruptedException e) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return new Outcome(false, "interrupted");
        }
    }

    /** Asks the health URL once (2 s timeout): ok when it answers 200. For preflight. */
    public Outcome probe(AppPolicy app) {
        HttpRequest request = HttpRequest.newBuilder(app.healthUrl()).timeout(Duration.ofSeconds(2)).GET().build();
        try {
            int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            return new Outcome(status == 200, "answered " + status);
        } catch (IOException e) {
            return new Outcome(false, "no answer (" + e.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(false, "interrupted");
        }
    }

    /** Polls the health URL until it answers 200 or {@code healthTimeout} has passed. */
    public Outcome awaitHealthy(AppPolicy app) {
        Instant deadline = Instant.now().plus(app.healthTimeout());
        HttpRequest request = HttpRequest.newBuilder(app.healthUrl()).timeout(Duration.ofSeconds(2)).GET().build();
        String last = "no answer";
        int attempts = 0;
        while (true) {
            attempts++;
            try {
                int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status == 200) {
                    return new Outcome(true, "200 after " + attempts + " attempt(s)");
                }
                last = "answered " + status;
            } catch (IOException e) {
                last = e.getClass().getSimpleName();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Outcome(false, "interrupted");
            }
            if (Instant.now().isAfter(deadline)) {
                return new Outcome(false, "not healthy within " + app.healthTimeout() + " (" + attempts
                        + " attempts, last: " + last + ")");
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Outcome(false, "interrupted");
            }
        }
    }

    static String redact(String text) {
        return SECRET_LIKE.matcher(text).replaceAll("<removed>");
    }

    /** Reads the command's output on its own thread (so a chatty command cannot block), keeping the start. */
    private static final class OutputTail extends Thread {
        private final InputStream in;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

        OutputTail(InputStream in) {
            super("restart-output");
            setDaemon(true);
            this.in = in;
        }

        @Override
        public void run() {
            byte[] buffer = new byte[1024];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    synchronized (kept) {
                        if (kept.size() < MAX_OUTPUT) {
                            kept.write(buffer, 0, Math.min(n, MAX_OUTPUT - kept.size()));
                        }
                    }
                }
            } catch (IOException e) {
                // the process is gone; keep what was read
            }
        }

        String text() {
            String s;
            synchronized (kept) {
                s = kept.toString(StandardCharsets.UTF_8).strip();
            }
            return s.isEmpty() ? "" : "; output: " + redact(s.replaceAll("\\s+", " "));
        }
    }
}
