package org.lifetimecircle.secrets.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.Processes;

/** {@link SecureFiles#createNoReplace}: the master key's way of being written, checked with real files and stat. */
class SecureFilesTest {

    @TempDir
    Path dir;

    @Test
    void createNoReplaceWritesTheContentWithTheModeAndLeavesNoTemporaryFile() throws Exception {
        Path target = dir.resolve("master.key");

        SecureFiles.createNoReplace(target, "ours\n".getBytes(StandardCharsets.US_ASCII), SecureFiles.OWNER_R);

        assertThat(Files.readString(target)).isEqualTo("ours\n");
        assertThat(FileModes.stat(target)).isEqualTo("400");
        assertThat(temporaries()).isEmpty();
    }

    @Test
    void createNoReplaceLeavesAnExistingTargetUntouchedAndFails() throws Exception {
        Path target = dir.resolve("master.key");
        Files.writeString(target, "theirs\n");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
        Object inode = Files.readAttributes(target, BasicFileAttributes.class).fileKey();

        assertThatThrownBy(() -> SecureFiles.createNoReplace(target, "ours\n".getBytes(StandardCharsets.US_ASCII),
                SecureFiles.OWNER_R))
                .isInstanceOf(FileAlreadyExistsException.class)
                .hasMessageContaining(target.toString());

        assertThat(Files.readString(target)).isEqualTo("theirs\n");
        assertThat(FileModes.stat(target)).isEqualTo("600");
        assertThat(Files.readAttributes(target, BasicFileAttributes.class).fileKey()).isEqualTo(inode);
        assertThat(temporaries()).isEmpty();
    }

    @Test
    void createNoReplaceNeverWritesThroughASymlinkAtTheTarget() throws Exception {
        Path elsewhere = dir.resolve("elsewhere");
        Path target = Files.createSymbolicLink(dir.resolve("master.key"), elsewhere);

        assertThatThrownBy(() -> SecureFiles.createNoReplace(target, "ours\n".getBytes(StandardCharsets.US_ASCII),
                SecureFiles.OWNER_R))
                .isInstanceOf(FileAlreadyExistsException.class);

        assertThat(Files.isSymbolicLink(target)).isTrue();
        assertThat(elsewhere).doesNotExist();
        assertThat(temporaries()).isEmpty();
    }

    @Test
    void createNoReplaceSetsTheModeExactlyUnderUmask022() throws Exception {
        // rw-rw----: a umask of 022 takes group write off at creation, so only an explicit chmod gets it right.
        for (String mode : List.of("rw-rw----", "r--------")) {
            Path target = dir.resolve("file-" + mode.replace('-', '_'));
            Processes.Result run = Processes.run(List.of("/bin/sh", "-c", "umask 022 && exec \"$@\"", "sh",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", classpath(), CreateUnderUmask.class.getName(), target.toString(), mode));

            assertThat(run.exit()).as(run.output()).isZero();
            assertThat(FileModes.stat(target)).as(mode)
                    .isEqualTo(mode.equals("r--------") ? "400" : "660");
            assertThat(Files.readString(target)).isEqualTo("content\n");
        }
        assertThat(temporaries()).isEmpty();
    }

    /** Run in a JVM of its own, started under the umask being tested: creates args[0] with mode args[1]. */
    public static final class CreateUnderUmask {
        public static void main(String[] args) throws IOException {
            SecureFiles.createNoReplace(Path.of(args[0]), "content\n".getBytes(StandardCharsets.US_ASCII),
                    PosixFilePermissions.fromString(args[1]));
        }
    }

    /** Where SecureFiles and this test were compiled to: all the child JVM needs. */
    private static String classpath() throws Exception {
        return Path.of(SecureFiles.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                + java.io.File.pathSeparator
                + Path.of(CreateUnderUmask.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private List<Path> temporaries() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().contains(".tmp-"))
                    .filter(p -> Files.exists(p, LinkOption.NOFOLLOW_LINKS)).toList();
        }
    }
}
