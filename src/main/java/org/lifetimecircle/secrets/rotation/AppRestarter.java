package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.policy.AppPolicy;

/**
 * Restarts the application that reads the env file and waits for it to answer healthy. The command
 * is run as an argument vector (no shell unless the policy's vector names one), bounded by
 * {@code restartTimeout}; its output is kept short and anything that looks like a secret is removed
 * before it goes into a step's detail.
 *
 * <p>The command gets a minimal environment: the service's {@code PATH} (it must find {@code systemctl}
 * or whatever the policy names, the same one the service would) and {@code LANG} (messages and
 * encodings as the service's), nothing else. The rest of the service's environment is the service's
 * business: {@code CREDENTIALS_DIRECTORY} says where systemd put the master key, {@code LTC_SECRETS_*}
 * say where the data and policies are, and a command (or a tool it runs) that dumps or forwards its
 * environment must not learn any of it.
 *
 * <p>The command runs in a session and process group of its own ({@code setsid}), so that a timeout
 * ends everything it started: its children, and their children even once they have left its process
 * tree (a double fork re-parents them to init, where {@link Process#descendants()} no longer sees them).
 */
@ApplicationScoped
public class AppRestarter {

    /** How a step went: ok or not, and a short detail safe to journal. */
    public record Outcome(boolean ok, String detail) {
    }

    /** Why the app is restarted, which names the two journal steps. */
    enum Occasion {
        /** A rotation's new file is in place. */
        ROTATION("restart", "health-check", true),
        /** The old file is back after the app was not healthy on the new one. */
        ROLLBACK("restart-after-rollback", "health-check-after-rollback", false),
        /** Start-up put the file back after a crash interrupted a rotation. */
        RECOVERY("restart-after-recovery", "health-check-after-recovery", true);

        final String restartStep;
        final String healthStep;
        /** Whether a health check the failed restart made pointless is journaled SKIPPED (a rollback's never was). */
        final boolean journalsSkippedCheck;

        Occasion(String restartStep, String healthStep, boolean journalsSkippedCheck) {
            this.restartStep = restartStep;
            this.healthStep = healthStep;
            this.journalsSkippedCheck = journalsSkippedCheck;
        }
    }

    private static final Logger LOG = Logger.getLogger(AppRestarter.class);
    static final int MAX_OUTPUT = 2048;
    /**
     * How many key-like characters ({@code [A-Za-z0-9_+/=.:-]}) in a row make a run that is removed, not
     * shortened: generated secrets, tokens, keys.
     */
    static final int SECRET_RUN = 20;
    private static final Duration POLL = Duration.ofMillis(200);
    /** The variables of the service's environment the command gets; see the class comment. */
    private static final List<String> PASSED_ON = List.of("PATH", "LANG");
    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final Path SETSID = Stream.of("/usr/bin/setsid", "/bin/setsid").map(Path::of)
            .filter(Files::isExecutable).findFirst().orElse(null);

    // HTTP/1.1: the JDK client otherwise offers an h2c upgrade (Upgrade: h2c), which uvicorn 0.17
    // answers with 400 — every health check failed and every rotation rolled back against it.
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, String> serviceEnvironment;

    public AppRestarter() {
        this(System.getenv());
    }

    /** With {@code serviceEnvironment} standing in for the service's own (tests). */
    AppRestarter(Map<String, String> serviceEnvironment) {
        this.serviceEnvironment = Map.copyOf(serviceEnvironment);
    }

    /**
     * The restart and the health check after it, the one sequence every rotation, rollback and recovery runs:
     * restarts the app, then, if that worked, waits for it to answer healthy; journals both in {@code steps}
     * under the {@code occasion}'s names. Returns the last outcome: the health check's, or the failed restart's.
     */
    Outcome restartAndCheck(AppPolicy app, Occasion occasion, StageSteps steps) {
        Outcome restarted = restart(app);
        steps.add(occasion.restartStep, StepStatus.of(restarted.ok()), restarted.detail());
        if (!restarted.ok()) {
            if (occasion.journalsSkippedCheck) {
                steps.add(occasion.healthStep, StepStatus.SKIPPED, "the restart failed");
            }
            return restarted;
        }
        Outcome healthy = awaitHealthy(app);
        steps.add(occasion.healthStep, StepStatus.of(healthy.ok()), healthy.detail());
        return healthy;
    }

    public Outcome restart(AppPolicy app) {
        List<String> command = new ArrayList<>();
        if (SETSID != null) {
            command.add(SETSID.toString()); // not a group leader here, so it calls setsid(2) and execs: same pid
        } else {
            LOG.warn("setsid is missing: a restart command that times out is ended with its descendants only");
        }
        command.addAll(app.restartCommand());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().clear();
        builder.environment().putAll(commandEnvironment());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return new Outcome(false, "could not start " + app.restartCommand().get(0) + ": " + e.getClass().getSimpleName());
        }
        OutputTail output = new OutputTail(process.getInputStream());
        output.start();
        try {
            if (!process.waitFor(app.restartTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                killAll(process);
                process.waitFor(5, TimeUnit.SECONDS);
                output.join(1000);
                return new Outcome(false, "timed out after " + app.restartTimeout() + " and was killed" + output.text(false));
            }
            output.join(1000); // let the reader take the last of the output
            int exit = process.exitValue();
            // Complete only if the reader saw the end: a child may still hold the output open.
            return new Outcome(exit == 0, "exit " + exit + output.text(!output.isAlive()));
        } catch (InterruptedException e) {
            killAll(process);
            Thread.currentThread().interrupt();
            return new Outcome(false, "interrupted");
        }
    }

    /** PATH and LANG from the service's environment, nothing else (PATH defaulted if the service has none). */
    Map<String, String> commandEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : PASSED_ON) {
            String value = serviceEnvironment.get(name);
            if (value != null) {
                env.put(name, value);
            }
        }
        env.putIfAbsent("PATH", DEFAULT_PATH);
        return env;
    }

    /**
     * SIGKILL to the command's process group (its pid: {@code setsid} made it the group's leader), then
     * to whatever of its tree is left (a child that made a group of its own). A child that made a session
     * of its own has left on purpose (a daemon) and is not found.
     */
    private static void killAll(Process process) {
        List<ProcessHandle> tree = process.descendants().toList();
        if (SETSID != null) {
            try {
                Process kill = new ProcessBuilder("/bin/sh", "-c", "kill -s KILL -- \"-$1\"", "kill",
                        Long.toString(process.pid())).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                kill.getOutputStream().close();
                if (!kill.waitFor(5, TimeUnit.SECONDS)) {
                    kill.destroyForcibly();
                }
            } catch (IOException e) {
                LOG.warnf("could not end the restart command's process group: %s", e.getClass().getSimpleName());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        tree.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
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

    /**
     * The command's output as it may go into a step's detail, made while it streams in: whitespace runs
     * become one space, every run of {@value #SECRET_RUN} or more key-like characters becomes
     * {@code <removed>} (a run continues across line breaks, so a value a tool wrapped over several
     * lines goes as a whole), and only then is the text cut at {@value #MAX_OUTPUT} bytes. Cutting
     * first, then redacting, left the piece of a value before the cut (shorter than a run) in the detail.
     */
    static final class Redactor {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        /** The key-like run being read (a space where a line break was), until it is long enough to remove. */
        private final StringBuilder run = new StringBuilder();
        private int runLength;
        private boolean pendingSpace;

        void accept(byte[] bytes, int length) {
            for (int i = 0; i < length; i++) {
                accept(bytes[i]);
            }
        }

        private void accept(byte b) {
            if (keyLike(b)) {
                if (runLength < SECRET_RUN) {
                    run.append((char) b);
                    if (++runLength == SECRET_RUN) {
                        run.setLength(0); // removed whatever follows; what was held is never shown
                    }
                }
                return;
            }
            if ((b == '\n' || b == '\r') && runLength > 0) {
                if (runLength < SECRET_RUN && run.charAt(run.length() - 1) != ' ') {
                    run.append(' ');
                }
                return; // the run may go on on the next line
            }
            endRun(true);
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == 0x0B) {
                pendingSpace = kept.size() > 0;
            } else {
                emit(b);
            }
        }

        /** Ends the run being read: shown if short and {@code complete}, else {@code <removed>}. */
        private void endRun(boolean complete) {
            if (runLength == 0) {
                return;
            }
            if (runLength >= SECRET_RUN || !complete) {
                for (byte c : "<removed>".getBytes(StandardCharsets.US_ASCII)) {
                    emit(c);
                }
            } else {
                String shown = run.toString();
                boolean trailingBreak = shown.endsWith(" ");
                for (char c : shown.strip().toCharArray()) {
                    if (c == ' ') {
                        pendingSpace = true;
                    } else {
                        emit((byte) c);
                    }
                }
                pendingSpace = trailingBreak;
            }
            run.setLength(0);
            runLength = 0;
        }

        private void emit(byte b) {
            if (pendingSpace && kept.size() > 0) {
                pendingSpace = false;
                emit((byte) ' ');
            }
            pendingSpace = false;
            if (kept.size() < MAX_OUTPUT) {
                kept.write(b);
            }
        }

        /**
         * The text so far. {@code complete}: the output has ended, so a short run at its end is shown;
         * otherwise (the command was killed, or a child still writes) it may be the start of a value, and
         * is removed.
         */
        String text(boolean complete) {
            endRun(complete);
            return kept.toString(StandardCharsets.UTF_8);
        }

        private static boolean keyLike(byte b) {
            return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
                    || b == '_' || b == '+' || b == '/' || b == '=' || b == '.' || b == ':' || b == '-';
        }
    }

    /** Reads the command's output on its own thread (so a chatty command cannot block), redacting as it goes. */
    private static final class OutputTail extends Thread {
        private final InputStream in;
        private final Redactor redactor = new Redactor();

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
                    synchronized (redactor) {
                        redactor.accept(buffer, n);
                    }
                }
            } catch (IOException e) {
                // the process is gone; keep what was read
            } finally {
                Arrays.fill(buffer, (byte) 0);
            }
        }

        String text(boolean complete) {
            String s;
            synchronized (redactor) {
                s = redactor.text(complete).strip();
            }
            return s.isEmpty() ? "" : "; output: " + s;
        }
    }
}
