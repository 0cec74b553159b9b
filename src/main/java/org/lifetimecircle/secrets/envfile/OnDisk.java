package org.lifetimecircle.secrets.envfile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.lifetimecircle.secrets.crypto.Fingerprinter;
import org.lifetimecircle.secrets.policy.FileMode;

/**
 * What a written env file must look like on disk, checked by reading it back without following links:
 * a regular file of exactly this content, mode (special bits included), owner and group. The content is
 * compared by its keyed fingerprint ({@code fingerprinter}, the installation's {@code hmac-sha256:}); an
 * expected value without that prefix is a plain SHA-256 recorded by an older release.
 */
record OnDisk(String fingerprint, long bytes, FileMode mode, Optional<GroupPrincipal> group,
              Function<byte[], String> fingerprinter) {

    /** How every keyed fingerprint starts. */
    static final String KEYED = Fingerprinter.PREFIX;

    /** Why {@code file} is not as expected (e.g. {@code "has mode 0644, expected 0600"}), or null if it is. */
    String problemWith(Path file) throws IOException {
        PosixFileAttributes attributes =
                Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile()) {
            return "is not a regular file";
        }
        Map<String, Object> unix = Files.readAttributes(file, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
        // unix:mode, unlike the permission set, also shows setuid, setgid and sticky bits.
        int actualMode = (Integer) unix.get("mode") & 07777;
        if (actualMode != Integer.parseInt(mode.octal(), 8)) {
            return "has mode " + String.format("%04o", actualMode) + ", expected " + mode.octal();
        }
        if (((Integer) unix.get("uid")).longValue() != EnvFileWriter.processUid()) {
            return "is owned by " + attributes.owner().getName() + ", not by the service's user";
        }
        if (group.isPresent() && !group.get().equals(attributes.group())) {
            return "has group " + attributes.group().getName() + ", expected " + group.get().getName();
        }
        if (attributes.size() != bytes) {
            return "has different content than was written (" + attributes.size() + " bytes, expected " + bytes + ")";
        }
        if (!fingerprint.equals(fingerprintOf(file))) {
            return "has different content than was written (fingerprint differs)";
        }
        return null;
    }

    /** The file's fingerprint in the form of the expected one; null if it is longer than expected. */
    private String fingerprintOf(Path file) throws IOException {
        // One byte more than expected: a file that grew since its size was read shows as different.
        ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(bytes + 1));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // until the file ends or the buffer is full
            }
            if (buffer.position() > bytes) {
                return null;
            }
            byte[] content = Arrays.copyOf(buffer.array(), buffer.position());
            try {
                return fingerprint.startsWith(KEYED) ? fingerprinter.apply(content) : EnvFileRenderer.sha256Hex(content);
            } finally {
                Arrays.fill(content, (byte) 0);
            }
        } finally {
            // The buffer held secrets.
            Arrays.fill(buffer.array(), (byte) 0);
        }
    }
}
