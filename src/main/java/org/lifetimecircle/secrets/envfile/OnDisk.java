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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.lifetimecircle.secrets.policy.FileMode;

/**
 * What a written env file must look like on disk, checked by reading it back without following links:
 * a regular file of exactly this content, mode (special bits included), owner and group.
 */
record OnDisk(String sha256, long bytes, FileMode mode, Optional<GroupPrincipal> group) {

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
        if (!sha256Of(file).equals(sha256)) {
            return "has different content than was written (SHA-256 differs)";
        }
        return null;
    }

    private static String sha256Of(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                digest.update(buffer);
                buffer.clear();
            }
        } finally {
            // The buffer held secrets.
            Arrays.fill(buffer.array(), (byte) 0);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
