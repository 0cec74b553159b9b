package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.files.SecureFiles;

/**
 * Copies of the hand-made env files that imports replace, one per IMPORT rotation, in
 * {@code <data-dir>/import-backups/<rotation id>.env} (directory 0700, files 0600, written atomically
 * and durably). An import keeps the copy before it replaces the file and removes it once the rotation
 * has ended; if the service dies in between, start-up recovery puts the copy back: the file someone
 * else wrote, and the value in it, are never lost to a crash.
 *
 * <p>The copy holds what the file held (secrets, in plaintext), for as long as the import runs, in the
 * service's own data directory, readable by the service's user only: no wider than the file itself.
 */
@ApplicationScoped
public class ImportBackups {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(ImportBackups.class);

    static final String DIRECTORY = "import-backups";
    private static final String SUFFIX = ".env";
    private static final Pattern ROTATION_ID = Pattern.compile("[0-9a-f]{16}");

    private final LtcSecretsConfig config;

    ImportBackups(LtcSecretsConfig config) {
        this.config = config;
    }

    private Path dir() {
        return config.dataDir().resolve(DIRECTORY);
    }

    private Path file(String rotationId) {
        if (!ROTATION_ID.matcher(rotationId).matches()) {
            throw new IllegalArgumentException("not a rotation id");
        }
        return dir().resolve(rotationId + SUFFIX);
    }

    /**
     * Keeps {@code content}, durably, before the import replaces the file it came from.
     *
     * @throws UncheckedIOException if it cannot be kept: then the file must not be replaced
     */
    public void keep(String rotationId, byte[] content) {
        try {
            SecureFiles.ensureDirectory(dir(), SecureFiles.OWNER_DIR);
            SecureFiles.writeAtomically(file(rotationId), content, SecureFiles.OWNER_RW);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The kept bytes of a rotation's replaced file, if there are any (the caller zeroes them). */
    public Optional<byte[]> find(String rotationId) {
        Path file = file(rotationId);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Removes the copy of an import that has ended, unless the hand-made file would be lost with it: kept when
     * the import did not complete and the file on disk ({@code onDisk}, null if there is none) is not the copy
     * (putting it back failed, or someone wrote another file since). Returns whether it was removed.
     */
    public boolean forgetIfSettled(String rotationId, RotationStatus status, byte[] onDisk) {
        if (status != RotationStatus.COMPLETED) {
            Optional<byte[]> copy = find(rotationId);
            if (copy.isPresent()) {
                boolean back = onDisk != null && java.security.MessageDigest.isEqual(onDisk, copy.get());
                java.util.Arrays.fill(copy.get(), (byte) 0);
                if (!back) {
                    LOG.errorf("rotation %s: the hand-made file the import replaced is not back on disk; its copy stays in "
                            + "%s/%s%s (mode 0600): put it in place by hand, then delete it", rotationId, DIRECTORY,
                            rotationId, SUFFIX);
                    return false;
                }
            }
        }
        delete(rotationId);
        return true;
    }

    /** Removes a rotation's copy (durably); nothing if there is none. */
    public void delete(String rotationId) {
        try {
            SecureFiles.deleteDurably(file(rotationId));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The rotations that have a copy, after removing what a crash left of a copy being written (its
     * temporary file): for start-up.
     */
    public List<String> rotationIds() {
        List<String> ids = new ArrayList<>();
        if (!Files.isDirectory(dir(), LinkOption.NOFOLLOW_LINKS)) {
            return ids;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir())) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.startsWith(".") && name.contains(SUFFIX + ".tmp-")) {
                    Files.deleteIfExists(entry);
                } else if (name.endsWith(SUFFIX)
                        && ROTATION_ID.matcher(name.substring(0, name.length() - SUFFIX.length())).matches()) {
                    ids.add(name.substring(0, name.length() - SUFFIX.length()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ids;
    }
}
