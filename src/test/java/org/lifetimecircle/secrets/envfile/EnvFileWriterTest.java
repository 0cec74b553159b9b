package org.lifetimecircle.secrets.envfile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lifetimecircle.secrets.envfile.EnvFileFixtures.PROMOTED;
import static org.lifetimecircle.secrets.envfile.EnvFileFixtures.generated;
import static org.lifetimecircle.secrets.envfile.EnvFileFixtures.policy;
import static org.lifetimecircle.secrets.envfile.EnvFileFixtures.secretKey;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.policy.Alphabet;
import org.lifetimecircle.secrets.policy.FileMode;
import org.lifetimecircle.secrets.secret.SecretValues;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.Processes;

/** Real files in a temporary directory, modes and owners read back with the real {@code stat}. */
class EnvFileWriterTest {

    private static final byte[] OLD = "# ltc-secrets env file: old\nA=1\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private final EnvFileWriter writer = new EnvFileWriter();

    @Test
    void writesWithMode0600AndReadsBackWhatWasRendered() throws Exception {
        byte[] content = rendered(3);
        Path target = dir.resolve("prod.env");

        EnvFileWriter.WriteResult result = writer.write(target, content, FileMode.M0600, Optional.empty());

        assertEquals("600", FileModes.stat(target));
        assertArrayEquals(content, Files.readAllBytes(target));
        assertEquals(new EnvFileWriter.WriteResult(target, "0600", writer.fingerprint(content), content.length),
                result);
        assertTrue(result.fingerprint().matches("hmac-sha256:[0-9a-f]{64}"), "keyed, never a plain hash");
        assertEquals(stat("%U", dir), stat("%U", target), "owned by the process's user");
        assertNoTempFiles();
    }

    @Test
    void writesWithMode0640AndTheUsersPrimaryGroup() throws Exception {
        String group = run("id", "-gn");
        Path target = dir.resolve("prod.env");

        writer.write(target, rendered(1), FileMode.M0640, Optional.of(group));

        assertEquals("640", FileModes.stat(target));
        assertEquals(group, stat("%G", target));
    }

    @Test
    void missingParentDirectoriesAreCreatedWith0750() throws Exception {
        Path target = dir.resolve("a/b/c/prod.env");

        writer.write(target, rendered(1), FileMode.M0600, Optional.empty());

        for (Path created : List.of(dir.resolve("a"), dir.resolve("a/b"), dir.resolve("a/b/c"))) {
            assertEquals("750", FileModes.stat(created), created.toString());
        }
        assertEquals("600", FileModes.stat(target));
    }

    @Test
    void createdDirectoriesGetExactly0750EvenUnderASetgidParent() throws Exception {
        // A setgid parent passes its bit on to new directories; the explicit chmod takes it off again.
        Path parent = Files.createDirectory(dir.resolve("shared"));
        run("chmod", "2770", parent.toString());
        Path target = parent.resolve("etc/prod.env");

        writer.write(target, rendered(1), FileMode.M0600, Optional.empty());

        assertEquals("750", FileModes.stat(target.getParent()));
        assertEquals("600", FileModes.stat(target));
    }

    @Test
    void createdDirectoriesGetTheGroupToo() throws Exception {
        String group = run("id", "-gn");
        Path target = dir.resolve("etc/prod.env");

        writer.write(target, rendered(1), FileMode.M0640, Optional.of(group));

        assertEquals("750", FileModes.stat(target.getParent()));
        assertEquals(group, stat("%G", target.getParent()));
    }

    @Test
    void replacingAFileFixesALooserModeAndKeepsNoTempFile() throws Exception {
        Path target = dir.resolve("prod.env");
        Files.write(target, OLD);
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        byte[] content = rendered(2);

        writer.write(target, content, FileMode.M0600, Optional.empty());

        assertEquals("600", FileModes.stat(target));
        assertArrayEquals(content, Files.readAllBytes(target));
        assertNoTempFiles();
    }

    @Test
    void readersOnlyEverSeeTheOldOrTheNewFileComplete() throws Exception {
        Path target = dir.resolve("prod.env");
        byte[] small = rendered(1);
        // A large second version: a non-atomic write would be caught half done.
        byte[] large = (new String(rendered(2), StandardCharsets.UTF_8) + "# padding\n".repeat(20_000))
                .getBytes(StandardCharsets.UTF_8);
        writer.write(target, small, FileMode.M0600, Optional.empty());
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger reads = new AtomicInteger();
        List<String> bad = new CopyOnWriteArrayList<>();

        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            while (writing.get()) {
                try {
                    byte[] seen = Files.readAllBytes(target);
                    if (!Arrays.equals(seen, small) && !Arrays.equals(seen, large)) {
                        bad.add("partial read of " + seen.length + " bytes");
                    }
                } catch (NoSuchFileException gone) {
                    bad.add("the file was missing for a moment");
                } catch (IOException e) {
                    bad.add(e.toString());
                }
                reads.incrementAndGet();
            }
        });
        try {
            for (int i = 0; i < 200; i++) {
                writer.write(target, i % 2 == 0 ? large : small, FileMode.M0600, Optional.empty());
            }
        } finally {
            writing.set(false);
        }
        reader.get(30, TimeUnit.SECONDS);

        assertEquals(0, bad.size(), bad.size() + " bad reads, the first: " + bad.subList(0, Math.min(5, bad.size())));
        assertTrue(reads.get() > 50, "the reader ran alongside the writer: " + reads.get() + " reads");
        assertNoTempFiles();
    }

    @Test
    void aSymlinkAtTheTargetIsRefusedAndWhatItPointsToIsUntouched() throws Exception {
        Path elsewhere = Files.write(dir.resolve("elsewhere.txt"), OLD);
        Path target = Files.createSymbolicLink(dir.resolve("prod.env"), elsewhere);

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty()));

        assertEquals(target.toAbsolutePath(), e.path());
        assertEquals("is a symbolic link; refusing to write through or over it", e.reason());
        assertTrue(Files.isSymbolicLink(target));
        assertArrayEquals(OLD, Files.readAllBytes(elsewhere));
        assertNoTempFiles();
    }

    @Test
    void aDanglingSymlinkAtTheTargetIsRefusedAndNothingIsCreated() throws Exception {
        Path missing = dir.resolve("not-there");
        Path target = Files.createSymbolicLink(dir.resolve("prod.env"), missing);

        assertThrows(EnvFileWriteException.class,
                () -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty()));

        assertFalse(Files.exists(missing, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aDirectoryAtTheTargetIsRefused() throws Exception {
        Path target = Files.createDirectory(dir.resolve("prod.env"));

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty()));

        assertEquals("is a directory", e.reason());
        assertTrue(Files.isDirectory(target));
        assertNoTempFiles();
    }

    @Test
    void aFifoAtTheTargetIsRefused() throws Exception {
        Path target = dir.resolve("prod.env");
        run("mkfifo", target.toString());

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty()));

        assertEquals("is not a regular file", e.reason());
    }

    @Test
    void aFailureAfterTheTempFileIsWrittenLeavesTheOldFileAndNoTempFile() throws Exception {
        Path target = dir.resolve("prod.env");
        Files.write(target, OLD);
        List<Path> temps = new ArrayList<>();
        EnvFileWriter failing = new EnvFileWriter((step, file) -> {
            if (step == EnvFileWriter.Step.TEMP_WRITTEN) {
                temps.add(file);
                assertTrue(Files.isRegularFile(file), "the temporary file exists at this point");
                throw new IOException("injected failure");
            }
        });

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> failing.write(target, rendered(2), FileMode.M0600, Optional.empty()));

        assertEquals("not replaced: injected failure", e.reason());
        assertFalse(e.replaced());
        assertEquals(1, temps.size());
        assertTrue(temps.get(0).getFileName().toString().startsWith(".prod.env.tmp-"));
        assertFalse(Files.exists(temps.get(0), LinkOption.NOFOLLOW_LINKS));
        assertArrayEquals(OLD, Files.readAllBytes(target));
        assertNoTempFiles();
    }

    @Test
    void aTempFileThatDoesNotReadBackAsWrittenIsNotInstalled() throws Exception {
        Path target = dir.resolve("prod.env");
        Files.write(target, OLD);
        EnvFileWriter corrupting = new EnvFileWriter((step, file) -> {
            if (step == EnvFileWriter.Step.TEMP_WRITTEN) {
                Files.write(file, "LTC_SECRET_KEY=tampered\n".getBytes(StandardCharsets.UTF_8));
            }
        });

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> corrupting.write(target, rendered(2), FileMode.M0600, Optional.empty()));

        assertTrue(e.reason().startsWith("not replaced: the temporary file has "), e.reason());
        assertArrayEquals(OLD, Files.readAllBytes(target));
        assertNoTempFiles();
    }

    @Test
    void aTempFileWithTheWrongModeIsNotInstalled() throws Exception {
        Path target = dir.resolve("prod.env");
        Files.write(target, OLD);
        EnvFileWriter loosening = new EnvFileWriter((step, file) -> {
            if (step == EnvFileWriter.Step.TEMP_WRITTEN) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            }
        });

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> loosening.write(target, rendered(2), FileMode.M0600, Optional.empty()));

        assertEquals("not replaced: the temporary file has mode 0644, expected 0600", e.reason());
        assertArrayEquals(OLD, Files.readAllBytes(target));
        assertNoTempFiles();
    }

    @Test
    void aFailedReadBackAfterTheRenameSaysTheFileWasReplaced() throws Exception {
        Path target = dir.resolve("prod.env");
        Files.write(target, OLD);
        byte[] content = rendered(2);
        EnvFileWriter tampering = new EnvFileWriter((step, file) -> {
            if (step == EnvFileWriter.Step.RENAMED) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
            }
        });

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> tampering.write(target, content, FileMode.M0600, Optional.empty()));

        assertEquals("replaced, but the file read back has mode 0666, expected 0600", e.reason());
        assertTrue(e.replaced());
        assertArrayEquals(content, Files.readAllBytes(target));
        assertNoTempFiles();
    }

    @Test
    void aFileSystemFailureIsExplainedInWordsWithoutAClassName() throws Exception {
        // A regular file where the env file's directory should be: a real failure even for root, which
        // ignores the permission bits a read-only directory test would need. Found by drills/faults.sh:
        // the 500's detail said "FileSystemException (…: Read-only file system)".
        Path notADirectory = dir.resolve("etc");
        Files.write(notADirectory, OLD);
        Path target = notADirectory.resolve("prod.env");

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty()));

        assertEquals("cannot be inspected: " + target.toAbsolutePath() + ": Not a directory", e.reason());
        assertFalse(e.getMessage().contains("Exception"), e.getMessage());
        assertArrayEquals(OLD, Files.readAllBytes(notADirectory));
    }

    @Test
    void theOperatingSystemsReasonIsKeptAndTheClassNameLeftOut() {
        assertEquals("/etc/x/.prod.env.tmp-1: Read-only file system", EnvFileWriter.describe(
                new java.nio.file.FileSystemException("/etc/x/.prod.env.tmp-1", null, "Read-only file system")));
        assertEquals("/etc/x: Permission denied", EnvFileWriter.describe(new java.nio.file.AccessDeniedException("/etc/x")));
        assertEquals("No space left on device", EnvFileWriter.describe(new IOException("No space left on device")));
        assertEquals("I/O error", EnvFileWriter.describe(new IOException()));
        assertEquals("unexpected failure", EnvFileWriter.describe(new IllegalStateException("java.lang.Thing")));
    }

    @Test
    void errorsNameThePathButNeverTheContent() throws Exception {
        String secret = generated(Alphabet.BASE64URL, 64);
        byte[] content = ("LTC_SECRET_KEY=" + secret + "\n").getBytes(StandardCharsets.UTF_8);
        Path target = dir.resolve("prod.env");
        EnvFileWriter failing = new EnvFileWriter((step, file) -> {
            throw new IOException("injected at " + step);
        });

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> failing.write(target, content, FileMode.M0600, Optional.empty()));

        assertTrue(e.getMessage().startsWith(target.toAbsolutePath() + ": "), e.getMessage());
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertFalse(String.valueOf(t.getMessage()).contains(secret.substring(0, 16)), t.toString());
        }
    }

    @Test
    void anUnknownGroupIsRefusedBeforeAnythingIsWritten() {
        Path target = dir.resolve("new/prod.env");

        EnvFileWriteException e = assertThrows(EnvFileWriteException.class,
                () -> writer.write(target, rendered(1), FileMode.M0640, Optional.of("ltc-no-such-group-x")));

        assertEquals("group ltc-no-such-group-x does not exist", e.reason());
        assertFalse(Files.exists(target.getParent()));
    }

    @Test
    void aGroupWithMode0600IsAProgrammingError() {
        assertThrows(IllegalArgumentException.class,
                () -> writer.write(dir.resolve("prod.env"), rendered(1), FileMode.M0600, Optional.of("root")));
    }

    @Test
    void leftoverTempFilesAreRemovedAndNothingElse() throws Exception {
        Path other = Files.write(dir.resolve("other.txt"), OLD);
        List<Path> kept = List.of(
                Files.write(dir.resolve("prod.env"), OLD),
                Files.write(dir.resolve(".prod.env.bak"), OLD),
                Files.write(dir.resolve(".staging.env.tmp-1a2b"), OLD),
                Files.write(dir.resolve("x.prod.env.tmp-1a2b"), OLD),
                Files.createDirectory(dir.resolve(".prod.env.tmp-dir")),
                Files.createSymbolicLink(dir.resolve(".prod.env.tmp-link"), other));
        Path crashed = Files.write(dir.resolve(".prod.env.tmp-9f8e7d6c5b4a3921"), OLD);
        Path crashedEmpty = Files.createFile(dir.resolve(".prod.env.tmp-0011223344556677"));

        assertEquals(2, EnvFileWriter.removeLeftoverTempFiles(dir, "prod.env"));

        assertFalse(Files.exists(crashed));
        assertFalse(Files.exists(crashedEmpty));
        for (Path path : kept) {
            assertTrue(Files.exists(path, LinkOption.NOFOLLOW_LINKS), path.toString());
        }
        assertArrayEquals(OLD, Files.readAllBytes(other));
        assertEquals(0, EnvFileWriter.removeLeftoverTempFiles(dir, "prod.env"));
        assertEquals(0, EnvFileWriter.removeLeftoverTempFiles(dir.resolve("missing"), "prod.env"));
    }

    private static byte[] rendered(long version) {
        return EnvFileRenderer.render(policy(Map.of("LTC_ENV", "prod"), secretKey()), Map.of("LTC_SECRET_KEY",
                new SecretValues(version, PROMOTED, generated(Alphabet.BASE64URL, 64))));
    }

    private void assertNoTempFiles() throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            assertEquals(List.of(), entries.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-"))
                    .toList());
        }
    }

    private static String stat(String format, Path file) throws Exception {
        return run("stat", "-c", format, file.toString());
    }

    private static String run(String... command) throws Exception {
        Processes.Result result = Processes.run(List.of(command));
        assertEquals(0, result.exit(), result.output());
        return result.output().trim();
    }
}
