package org.lifetimecircle.secrets.envfile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Reads an env file the way its real consumers do: the real bash ({@code set -a; . file}), the real
 * python-dotenv under {@code /usr/bin/python3} (Debian's python3-dotenv), and systemd's rules. Each returns
 * the variables the file defines, sorted by name; a reader that complains on stderr fails the read.
 */
final class EnvFileReaders {

    static final String PYTHON = "/usr/bin/python3";

    // NUL-separated NAME=value pairs, so values with spaces or quotes come back exactly.
    private static final String DOTENV_SCRIPT = String.join("\n",
            "import sys",
            "from dotenv import dotenv_values",
            "for k, v in dotenv_values(sys.argv[1]).items():",
            "    sys.stdout.buffer.write((k + '=' + ('<no value>' if v is None else v) + '\\0').encode('utf-8'))");

    private EnvFileReaders() {
    }

    /** The variables a POSIX-locale bash exports after {@code set -a; . file}. */
    static Map<String, String> bash(Path file) throws IOException, InterruptedException {
        return bash(file, "C");
    }

    /** Same, in the given locale ({@code LC_ALL}), to show multi-byte characters do not change the reading. */
    static Map<String, String> bash(Path file, String locale) throws IOException, InterruptedException {
        // What bash exports by itself (PWD, SHLVL, _) is what it exports after sourcing an empty file.
        Map<String, String> own = nulPairs(run(Map.of("LC_ALL", locale), "/bin/bash", "--noprofile", "--norc", "-c",
                "set -a; . /dev/null; env -0"));
        Map<String, String> all = nulPairs(run(Map.of("LC_ALL", locale), "/bin/bash", "--noprofile", "--norc", "-c",
                "set -a; . \"$1\"; env -0", "bash", file.toString()));
        own.keySet().forEach(all::remove);
        return all;
    }

    /** What {@code dotenv_values(file)} returns (interpolation on, its default). */
    static Map<String, String> dotenv(Path file) throws IOException, InterruptedException {
        return nulPairs(run(Map.of(), PYTHON, "-c", DOTENV_SCRIPT, file.toString()));
    }

    /** What systemd would pass to a service with {@code EnvironmentFile=file}. */
    static Map<String, String> systemd(Path file) throws IOException {
        return new TreeMap<>(SystemdEnvironmentFile.parse(Files.readAllBytes(file)));
    }

    /** True if python3-dotenv is importable by {@code /usr/bin/python3}. */
    static boolean dotenvInstalled() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(PYTHON, "-c", "import dotenv").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    private static byte[] run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(List.of(command));
        // A clean environment: nothing inherited can fill in a ${...} or hide a missing variable.
        builder.environment().clear();
        builder.environment().putAll(env);
        Path stderr = Files.createTempFile("envfile-reader-", ".err");
        try {
            Process p = builder.redirectError(stderr.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command[0] + " timed out");
            }
            String errors = Files.readString(stderr, StandardCharsets.UTF_8);
            if (p.exitValue() != 0 || !errors.isEmpty()) {
                throw new IOException(command[0] + " exited " + p.exitValue() + ": " + errors);
            }
            return out;
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private static Map<String, String> nulPairs(byte[] output) {
        Map<String, String> pairs = new HashMap<>();
        for (String pair : new String(output, StandardCharsets.UTF_8).split("\0")) {
            if (!pair.isEmpty()) {
                int eq = pair.indexOf('=');
                pairs.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return new TreeMap<>(pairs);
    }
}
