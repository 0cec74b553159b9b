package org.lifetimecircle.secrets.envfile;

import com.sun.security.auth.module.UnixSystem;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.lifetimecircle.secrets.crypto.Fingerprinter;
import org.lifetimecircle.secrets.crypto.InstallationKeys;
import org.lifetimecircle.secrets.files.IoReasons;
import org.lifetimecircle.secrets.files.SecureFiles;
import org.lifetimecircle.secrets.policy.FileMode;

/**
 * Writes env files so that the file on disk is always the old or the new version, complete, at its policy
 * mode: a temporary file beside the target, created exclusively with the final mode and never through a
 * link, is written and fsynced, checked, renamed over the target, and the directory fsynced; then the target
 * is read back and checked again (content, mode, owner, group).
 */
@Singleton
public final class EnvFileWriter {

    /**
     * What is on disk after a write: the file, its mode ({@code "0600"}), the content's keyed
     * {@code hmac-sha256:} fingerprint (never a plain hash of secret-bearing bytes) and size.
     */
    public record WriteResult(Path path, String mode, String fingerprint, long bytes) {
    }

    /** The points between steps where a test can make a write fail. */
    enum Step {
        /** The temporary file is written, fsynced and closed, not yet checked or renamed. */
        TEMP_WRITTEN,
        /** The target has been replaced and the directory fsynced, not yet read back. */
        RENAMED
    }

    /** Called at each {@link Step}; a no-op in production, tests throw or tamper here to prove the clean-up. */
    interface StepHook {
        void reached(Step step, Path file) throws IOException;
    }

    static final String TEMP_MARKER = ".tmp-";

    private static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwxr-x---");
    private static final Set<OpenOption> CREATE_EXCLUSIVELY = Set.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long PROCESS_UID = new UnixSystem().getUid();

    private final StepHook hook;
    private final Function<byte[], String> fingerprinter;

    @Inject
    EnvFileWriter(InstallationKeys keys) {
        this((step, file) -> {
        }, keys::fingerprint);
    }

    /** For tests: no hook, a fingerprint key of its own. */
    EnvFileWriter() {
        this((step, file) -> {
        });
    }

    /** For tests: a fingerprint key of its own. */
    EnvFileWriter(StepHook hook) {
        this(hook, Fingerprinter.generate()::fingerprint);
    }

    private EnvFileWriter(StepHook hook, Function<byte[], String> fingerprinter) {
        this.hook = Objects.requireNonNull(hook, "hook");
        this.fingerprinter = Objects.requireNonNull(fingerprinter, "fingerprinter");
    }

    /** The keyed {@code hmac-sha256:} fingerprint of content, as records and audit details carry it. */
    public String fingerprint(byte[] content) {
        return fingerprinter.apply(content);
    }

    /** What a file written with this content must look like on disk. */
    OnDisk expected(String fingerprint, long bytes, FileMode mode, Optional<GroupPrincipal> group) {
        return new OnDisk(fingerprint, bytes, mode, group, fingerprinter);
    }

    /**
     * Replaces (or creates) {@code target} with {@code content} at {@code mode}, with {@code group} as its group
     * if given (mode 0640 only). Missing parent directories are created with mode 0750 (and the group).
     *
     * @throws EnvFileWriteException if the target is a link, a directory or any other non-regular file (nothing
     *     is written), or any step or check fails; no temporary file remains, and unless
     *     {@link EnvFileWriteException#replaced()} the previous file is untouched
     */
    public WriteResult write(Path target, byte[] content, FileMode mode, Optional<String> group) {
        return write(target, content, mode, group, false);
    }

    /**
     * {@link #write(Path, byte[], FileMode, Optional)}, except that with {@code replaceLink} a symbolic link at
     * the target is replaced by the new file (the rename replaces the link itself; nothing is written through
     * it). For repairing drift: a link someone put where this service's file was.
     */
    public WriteResult write(Path target, byte[] content, FileMode mode, Optional<String> group, boolean replaceLink) {
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(mode, "mode");
        if (group.isPresent() && mode != FileMode.M0640) {
            throw new IllegalArgumentException("a group is only used with mode 0640");
        }
        Path file = target.toAbsolutePath();
        Path dir = file.getParent();
        refuseAnythingButARegularFile(file, replaceLink);
        Optional<GroupPrincipal> owningGroup = lookUp(file, group);
        OnDisk expected = expected(fingerprint(content), content.length, mode, owningGroup);
        try {
            SecureFiles.createDirectories(dir, DIRECTORY_MODE, owningGroup);
        } catch (IOException e) {
            throw new EnvFileWriteException(file, "could not create its directory: " + describe(e), e);
        }

        Path temp = dir.resolve("." + file.getFileName() + TEMP_MARKER + HexFormat.of().formatHex(randomBytes()));
        try {
            writeTemporaryFile(temp, content, mode, owningGroup);
            hook.reached(Step.TEMP_WRITTEN, temp);
            String problem = expected.problemWith(temp);
            if (problem != null) {
                throw new EnvFileWriteException(file, "not replaced: the temporary file " + problem);
            }
            // Again just before the rename, to report a link planted meanwhile; one planted even later is only
            // replaced by the rename (it renames the link itself), never written through.
            refuseAnythingButARegularFile(file, replaceLink);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(temp, e);
            if (e instanceof EnvFileWriteException refused) {
                throw refused;
            }
            throw new EnvFileWriteException(file, "not replaced: " + describe(e), e);
        }

        try {
            SecureFiles.fsyncDirectory(dir);
            hook.reached(Step.RENAMED, file);
            String problem = expected.problemWith(file);
            if (problem != null) {
                throw new EnvFileWriteException(file, "replaced, but the file read back " + problem, true, null);
            }
        } catch (IOException e) {
            throw new EnvFileWriteException(file, "replaced, but could not be made durable or read back: "
                    + describe(e), true, e);
        }
        return new WriteResult(file, mode.octal(), expected.fingerprint(), content.length);
    }

    /**
     * Removes temporary files ({@code .<targetName>.tmp-*}) that a crash left in {@code dir}; for start-up.
     * Only regular files are removed: we never create anything else under that name.
     *
     * @return how many were removed
     */
    public static int removeLeftoverTempFiles(Path dir, String targetName) {
        if (targetName.isEmpty() || targetName.contains("/")) {
            throw new IllegalArgumentException("targetName must be a file name");
        }
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        String prefix = "." + targetName + TEMP_MARKER;
        int removed = 0;
        try (DirectoryStream<Path> entries =
                     Files.newDirectoryStream(dir, entry -> entry.getFileName().toString().startsWith(prefix))) {
            for (Path entry : entries) {
                if (Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isRegularFile()) {
                    Files.deleteIfExists(entry);
                    removed++;
                }
            }
            if (removed > 0) {
                SecureFiles.fsyncDirectory(dir);
            }
        } catch (IOException e) {
            throw new EnvFileWriteException(dir, "could not remove leftover temporary files: " + describe(e), e);
        }
        return removed;
    }

    private static void writeTemporaryFile(Path temp, byte[] content, FileMode mode, Optional<GroupPrincipal> group)
            throws IOException {
        // CREATE_NEW with NOFOLLOW_LINKS fails on any existing entry, a planted link included, and the file is
        // born with the final mode (or narrower, by the umask): no moment where more could read it.
        FileAttribute<Set<PosixFilePermission>> bornWith = PosixFilePermissions.asFileAttribute(mode.permissions());
        try (FileChannel channel = FileChannel.open(temp, CREATE_EXCLUSIVELY, bornWith)) {
            PosixFileAttributeView view =
                    Files.getFileAttributeView(temp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (group.isPresent()) {
                view.setGroup(group.get());
            }
            // Exactly the policy mode whatever the umask took away, set before the first byte goes in.
            view.setPermissions(mode.permissions());
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    private static void refuseAnythingButARegularFile(Path file, boolean linkAllowed) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException absent) {
            return;
        } catch (IOException e) {
            throw new EnvFileWriteException(file, "cannot be inspected: " + describe(e), e);
        }
        if (attributes.isSymbolicLink()) {
            if (linkAllowed) {
                return;
            }
            throw new EnvFileWriteException(file, "is a symbolic link; refusing to write through or over it");
        }
        if (attributes.isDirectory()) {
            throw new EnvFileWriteException(file, "is a directory");
        }
        if (!attributes.isRegularFile()) {
            throw new EnvFileWriteException(file, "is not a regular file");
        }
    }

    static Optional<GroupPrincipal> lookUp(Path file, Optional<String> group) {
        if (group.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(file.getFileSystem().getUserPrincipalLookupService()
                    .lookupPrincipalByGroupName(group.get()));
        } catch (UserPrincipalNotFoundException e) {
            throw new EnvFileWriteException(file, "group " + group.get() + " does not exist", e);
        } catch (IOException e) {
            throw new EnvFileWriteException(file, "group " + group.get() + " cannot be looked up: " + describe(e), e);
        }
    }

    private static void deleteQuietly(Path temp, Exception failure) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    /** The path and the operating system's reason in words; see {@link IoReasons}. */
    static String describe(Exception e) {
        return IoReasons.describe(e);
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** The service's user (this process's uid), which must own every env file we write. */
    static long processUid() {
        return PROCESS_UID;
    }
}
