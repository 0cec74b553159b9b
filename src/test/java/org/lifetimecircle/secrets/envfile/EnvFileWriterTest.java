package org.lifetimecircle.secrets.envfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

        assertThat(FileModes.stat(target)).isEqualTo("600");
        assertThat(Files.readAllBytes(target)).isEqualTo(content);
        assertThat(result)
                .isEqualTo(new EnvFileWriter.WriteResult(target, "0600", writer.fingerprint(content), content.length));
        assertThat(result.fingerprint().matches("hmac-sha256:[0-9a-f]{64}")).as("keyed, never a plain hash").isTrue();
        assertThat(stat("%U", target)).as("owned by the process's user").isEqualTo(stat("%U", dir));
        assertNoTempFiles();
    }

    @Test
    void writesWithMode0640AndTheUsersPrimaryGroup() throws Exception {
        String group = run("id", "-gn");
        Path target = dir.resolve("prod.env");

        writer.write(target, rendered(1), FileMode.M0640, Optional.of(group));

        assertThat(FileModes.stat(target)).isEqualTo("640");
        assertThat(stat("%G", target)).isEqualTo(group);
    }

    @Test
    void missingParentDirectoriesAreCreatedWith0750() throws Exception {
        Path target = dir.resolve("a/b/c/prod.env");

        writer.write(target, rendered(1), FileMode.M0600, Optional.empty());

        for (Path created : List.of(dir.resolve("a"), dir.resolve("a/b"), dir.resolve("a/b/c"))) {
            assertThat(FileModes.stat(created)).as(created.toString()).isEqualTo("750");
        }
        assertThat(FileModes.stat(target)).isEqualTo("600");
    }

    @Test
    void createdDirectoriesGetExactly0750EvenUnderASetgidParent() throws Exception {
        // A setgid parent passes its bit on to new directories; the explicit chmod takes it off again.
        Path parent = Files.createDirectory(dir.resolve("shared"));
        run("chmod", "2770", parent.toString());
        Path target = parent.resolve("etc/prod.env");

        writer.write(target, rendered(1), FileMode.M0600, Optional.empty());

        assertThat(FileModes.stat(target.getParent())).isEqualTo("750");
        assertThat(FileModes.stat(target)).isEqualTo("600");
    }

    @Test
    void createdDirectoriesGetTheGroupToo() throws Exception {
        String group = run("id", "-gn");
        Path target = dir.resolve("etc/prod.env");

        writer.write(target, rendered(1), FileMode.M0640, Optional.of(group));

        assertThat(FileModes.stat(target.getParent())).isEqualTo("750");
        assertThat(stat("%G", target.getParent())).isEqualTo(group);
    }

    @Test
    void replacingAFileFixesALooserModeAndKeepsNoTempFile() throws Exception {
        Path target = dir.resolve("prod.env");
        Files.write(target, OLD);
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        byte[] content = rendered(2);

        writer.write(target, content, FileMode.M0600, Optional.empty());

        assertThat(FileModes.stat(target)).isEqualTo("600");
        assertThat(Files.readAllBytes(target)).isEqualTo(content);
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

        assertThat(bad.size()).as(bad.size() + " bad reads, the first: " + bad.subList(0, Math.min(5, bad.size())))
                .isEqualTo(0);
        assertThat(reads.get() > 50).as("the reader ran alongside the writer: " + reads.get() + " reads").isTrue();
        assertNoTempFiles();
    }

    @Test
    void aSymlinkAtTheTargetIsRefusedAndWhatItPointsToIsUntouched() throws Exception {
        Path elsewhere = Files.write(dir.resolve("elsewhere.txt"), OLD);
        Path target = Files.createSymbolicLink(dir.resolve("prod.env"), elsewhere);

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty())).actual();

        assertThat(e.path()).isEqualTo(target.toAbsolutePath());
        assertThat(e.reason()).isEqualTo("is a symbolic link; refusing to write through or over it");
        assertThat(Files.isSymbolicLink(target)).isTrue();
        assertThat(Files.readAllBytes(elsewhere)).isEqualTo(OLD);
        assertNoTempFiles();
    }

    @Test
    void aDanglingSymlinkAtTheTargetIsRefusedAndNothingIsCreated() throws Exception {
        Path missing = dir.resolve("not-there");
        Path target = Files.createSymbolicLink(dir.resolve("prod.env"), missing);

        assertThatThrownBy(() -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty()))
                .isInstanceOf(EnvFileWriteException.class);

        assertThat(Files.exists(missing, LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    @Test
    void aDirectoryAtTheTargetIsRefused() throws Exception {
        Path target = Files.createDirectory(dir.resolve("prod.env"));

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty())).actual();

        assertThat(e.reason()).isEqualTo("is a directory");
        assertThat(Files.isDirectory(target)).isTrue();
        assertNoTempFiles();
    }

    @Test
    void aFifoAtTheTargetIsRefused() throws Exception {
        Path target = dir.resolve("prod.env");
        run("mkfifo", target.toString());

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty())).actual();

        assertThat(e.reason()).isEqualTo("is not a regular file");
    }

    @Test
    void aFailureAfterTheTempFileIsWrittenLeavesTheOldFileAndNoTempFile() throws Exception {
        Path target = dir.resolve("prod.env");
        Files.write(target, OLD);
        List<Path> temps = new ArrayList<>();
        EnvFileWriter failing = new EnvFileWriter((step, file) -> {
            if (step == EnvFileWriter.Step.TEMP_WRITTEN) {
                temps.add(file);
                assertThat(Files.isRegularFile(file)).as("the temporary file exists at this point").isTrue();
                throw new IOException("injected failure");
            }
        });

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> failing.write(target, rendered(2), FileMode.M0600, Optional.empty())).actual();

        assertThat(e.reason()).isEqualTo("not replaced: injected failure");
        assertThat(e.replaced()).isFalse();
        assertThat(temps.size()).isEqualTo(1);
        assertThat(temps.get(0).getFileName().toString().startsWith(".prod.env.tmp-")).isTrue();
        assertThat(Files.exists(temps.get(0), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.readAllBytes(target)).isEqualTo(OLD);
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

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> corrupting.write(target, rendered(2), FileMode.M0600, Optional.empty())).actual();

        assertThat(e.reason().startsWith("not replaced: the temporary file has ")).as(e.reason()).isTrue();
        assertThat(Files.readAllBytes(target)).isEqualTo(OLD);
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

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> loosening.write(target, rendered(2), FileMode.M0600, Optional.empty())).actual();

        assertThat(e.reason()).isEqualTo("not replaced: the temporary file has mode 0644, expected 0600");
        assertThat(Files.readAllBytes(target)).isEqualTo(OLD);
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

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> tampering.write(target, content, FileMode.M0600, Optional.empty())).actual();

        assertThat(e.reason()).isEqualTo("replaced, but the file read back has mode 0666, expected 0600");
        assertThat(e.replaced()).isTrue();
        assertThat(Files.readAllBytes(target)).isEqualTo(content);
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

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> writer.write(target, rendered(1), FileMode.M0600, Optional.empty())).actual();

        assertThat(e.reason()).isEqualTo("cannot be inspected: " + target.toAbsolutePath() + ": Not a directory");
        assertThat(e.getMessage().contains("Exception")).as(e.getMessage()).isFalse();
        assertThat(Files.readAllBytes(notADirectory)).isEqualTo(OLD);
    }

    @Test
    void theOperatingSystemsReasonIsKeptAndTheClassNameLeftOut() {
        assertThat(EnvFileWriter.describe(
                new java.nio.file.FileSystemException("/etc/x/.prod.env.tmp-1", null, "Read-only file system")))
                        .isEqualTo("/etc/x/.prod.env.tmp-1: Read-only file system");
        assertThat(EnvFileWriter.describe(new java.nio.file.AccessDeniedException("/etc/x")))
                .isEqualTo("/etc/x: Permission denied");
        assertThat(EnvFileWriter.describe(new IOException("No space left on device")))
                .isEqualTo("No space left on device");
        assertThat(EnvFileWriter.describe(new IOException())).isEqualTo("I/O error");
        assertThat(EnvFileWriter.describe(new IllegalStateException("java.lang.Thing")))
                .isEqualTo("unexpected failure");
    }

    @Test
    void errorsNameThePathButNeverTheContent() throws Exception {
        String secret = generated(Alphabet.BASE64URL, 64);
        byte[] content = ("LTC_SECRET_KEY=" + secret + "\n").getBytes(StandardCharsets.UTF_8);
        Path target = dir.resolve("prod.env");
        EnvFileWriter failing = new EnvFileWriter((step, file) -> {
            throw new IOException("injected at " + step);
        });

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> failing.write(target, content, FileMode.M0600, Optional.empty())).actual();

        assertThat(e.getMessage().startsWith(target.toAbsolutePath() + ": ")).as(e.getMessage()).isTrue();
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage()).contains(secret.substring(0, 16))).as(t.toString()).isFalse();
        }
    }

    @Test
    void anUnknownGroupIsRefusedBeforeAnythingIsWritten() {
        Path target = dir.resolve("new/prod.env");

        EnvFileWriteException e = assertThatExceptionOfType(EnvFileWriteException.class)
                .isThrownBy(() -> writer.write(target, rendered(1), FileMode.M0640, Optional.of("ltc-no-such-group-x")))
                .actual();

        assertThat(e.reason()).isEqualTo("group ltc-no-such-group-x does not exist");
        assertThat(Files.exists(target.getParent())).isFalse();
    }

    @Test
    void aGroupWithMode0600IsAProgrammingError() {
        assertThatThrownBy(() -> writer.write(dir.resolve("prod.env"), rendered(1), FileMode.M0600, Optional.of("root")))
                .isInstanceOf(IllegalArgumentException.class);
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

        assertThat(EnvFileWriter.removeLeftoverTempFiles(dir, "prod.env")).isEqualTo(2);

        assertThat(Files.exists(crashed)).isFalse();
        assertThat(Files.exists(crashedEmpty)).isFalse();
        for (Path path : kept) {
            assertThat(Files.exists(path, LinkOption.NOFOLLOW_LINKS)).as(path.toString()).isTrue();
        }
        assertThat(Files.readAllBytes(other)).isEqualTo(OLD);
        assertThat(EnvFileWriter.removeLeftoverTempFiles(dir, "prod.env")).isEqualTo(0);
        assertThat(EnvFileWriter.removeLeftoverTempFiles(dir.resolve("missing"), "prod.env")).isEqualTo(0);
    }

    private static byte[] rendered(long version) {
        return EnvFileRenderer.render(policy(Map.of("LTC_ENV", "prod"), secretKey()), Map.of("LTC_SECRET_KEY",
                new SecretValues(version, PROMOTED, generated(Alphabet.BASE64URL, 64))));
    }

    private void assertNoTempFiles() throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            assertThat(entries.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-"))
                    .toList()).isEqualTo(List.of());
        }
    }

    private static String stat(String format, Path file) throws Exception {
        return run("stat", "-c", format, file.toString());
    }

    private static String run(String... command) throws Exception {
        Processes.Result result = Processes.run(List.of(command));
        assertThat(result.exit()).as(result.output()).isEqualTo(0);
        return result.output().trim();
    }
}
