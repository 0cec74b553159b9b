package org.lifetimecircle.secrets.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Reads file modes with the real {@code stat} binary, not through the JDK we are testing. */
public final class FileModes {

    private FileModes() {
    }

    /** The octal mode as {@code stat -c %a} prints it, e.g. {@code 600}. */
    public static String stat(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "-c", "%a", file.toString()).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("stat timed out");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) {
            throw new IOException("stat failed: " + out);
        }
        return out;
    }
}
