package org.lifetimecircle.secrets.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real command (openssl, the offline verifier) and captures its exit code and output. */
public final class Processes {

    private Processes() {
    }

    /** Exit code and combined output of a finished command. */
    public record Result(int exit, String output) {
    }

    public static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("ltc-secrets-cmd-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("command timed out: " + command.get(0));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
