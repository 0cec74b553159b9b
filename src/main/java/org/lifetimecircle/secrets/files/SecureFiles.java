package org.lifetimecircle.secrets.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/**
 * Atomic, durable writes of small sensitive files. The file never exists with a looser mode than
 * asked for (the temporary file is created with it), and after a crash the target is either the
 * old or the new content, complete.
 */
public final class SecureFiles {

    /** Owner read/write only. */
    public static final Set<PosixFilePermission> OWNER_RW = PosixFilePermissions.fromString("rw-------");
    /** Owner read only: files nothing may rewrite in place (signed audit archives). */
    public static final Set<PosixFilePermission> OWNER_R = PosixFilePermissions.fromString("r--------");
    /** Owner read, write and search only. */
    public static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

    private static final SecureRandom RANDOM = new SecureRandom();

    private SecureFiles() {
    }

    /**
     * Replaces {@code target} with {@code content}: write a temporary file beside it, created
     * exclusively with {@code mode}, fsync, rename over the target, fsync the directory.
     */
    public static void writeAtomically(Path target, byte[] content, Set<PosixFilePermission> mode) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + HexFormat.of().formatHex(randomBytes()));
        try {
            // CREATE_NEW refuses an existing path, including a planted symlink, so we never follow one.
            try (FileChannel ch = FileChannel.open(tmp,
                    Set.<OpenOption>of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(mode))) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            // The umask may have narrowed the mode at creation; set it exactly.
            Files.setPosixFilePermissions(tmp, mode);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Creates {@code target} with {@code content}, never replacing a file that is already there: a temporary file
     * beside it is created exclusively with {@code mode}, written, set to exactly {@code mode} and fsynced, then
     * published under the target's name with a hard link; the temporary file is removed and the directory fsynced.
     * For files that must never be overwritten once something may depend on them (the master key).
     *
     * <p>Why a hard link and not check-then-rename: rename(2), which ATOMIC_MOVE uses, silently replaces an
     * existing target, so "check, then move" has a window in which a file another process created (and may
     * already be using) is overwritten. link(2) is just as atomic (the name appears with final content and mode,
     * or not at all) but fails with EEXIST instead of replacing. Only on file systems without hard links do we
     * fall back to check-then-rename, accepting that narrow window.
     *
     * @throws FileAlreadyExistsException if {@code target} exists: it is left untouched, and no temporary file
     *     is left behind
     */
    public static void createNoReplace(Path target, byte[] content, Set<PosixFilePermission> mode) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + HexFormat.of().formatHex(randomBytes()));
        boolean ours = false;
        try {
            // CREATE_NEW with the final mode: the file never exists, even briefly, with a looser one, and an
            // existing path (a planted symlink included) is never reused. A read-only mode still gives this
            // descriptor write access, as open(2) does for the file it creates.
            try (FileChannel ch = FileChannel.open(tmp,
                    Set.<OpenOption>of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(mode))) {
                ours = true; // only now is it ours to delete
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                // The umask may have narrowed the mode at creation; set it exactly, before the fsync, so the
                // mode is on disk with the content before the file gets its real name.
                Files.setPosixFilePermissions(tmp, mode);
                ch.force(true);
            }
            publishNoReplace(tmp, target);
            Files.deleteIfExists(tmp);
            fsyncDirectory(dir);
        } catch (IOException | RuntimeException e) {
            if (ours) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup); // the original error is the one worth reporting
                }
            }
            throw e;
        }
    }

    /** Gives the finished temporary file the target's name unless that name is taken (see createNoReplace). */
    private static void publishNoReplace(Path tmp, Path target) throws IOException {
        try {
            Files.createLink(target, tmp);
        } catch (FileAlreadyExistsException e) {
            throw e;
        } catch (UnsupportedOperationException | IOException e) {
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(target.toString());
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Writes a file's content to a stream (which the caller must not close). */
    @FunctionalInterface
    public interface ContentWriter {
        void write(java.io.OutputStream out) throws IOException;
    }

    /**
     * {@link #writeAtomically(Path, byte[], Set)} for content too large to hold in memory (an audit
     * archive): streamed into the temporary file, which is then fsynced, renamed and its directory
     * fsynced in the same way.
     */
    public static void writeAtomically(Path target, Set<PosixFilePermission> mode, ContentWriter content)
            throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + HexFormat.of().formatHex(randomBytes()));
        try {
            try (FileChannel ch = FileChannel.open(tmp,
                    Set.<OpenOption>of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(mode))) {
                java.io.OutputStream out = new java.io.BufferedOutputStream(
                        java.nio.channels.Channels.newOutputStream(ch), 64 * 1024);
                content.write(out);
                out.flush();
                ch.force(true);
            }
            Files.setPosixFilePermissions(tmp, mode);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Creates {@code dir} (and missing parents) with {@code mode} if it does not exist. */
    public static void ensureDirectory(Path dir, Set<PosixFilePermission> mode) throws IOException {
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(dir.toString(), null, "exists but is not a directory");
        }
        Path parent = dir.toAbsolutePath().getParent();
        if (parent != null) {
            ensureDirectory(parent, mode);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(mode));
            Files.setPosixFilePermissions(dir, mode);
            if (parent != null) {
                fsyncDirectory(parent);
            }
        } catch (FileAlreadyExistsException raced) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw raced;
            }
        }
    }

    /**
     * Creates {@code dir} and its missing parents, each with exactly {@code mode} and, if given, {@code group},
     * fsyncing the parent of each new directory so it survives a crash. Existing directories are used as they
     * are, through links like {@code mkdir -p}: the files written into them guard against links themselves.
     */
    public static void createDirectories(Path dir, Set<PosixFilePermission> mode, Optional<GroupPrincipal> group)
            throws IOException {
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = dir.toAbsolutePath(); p != null && !Files.isDirectory(p); p = p.getParent()) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new NotDirectoryException(p.toString());
            }
            missing.push(p);
        }
        for (Path created : missing) {
            try {
                Files.createDirectory(created, PosixFilePermissions.asFileAttribute(mode));
            } catch (FileAlreadyExistsException raced) {
                if (Files.isDirectory(created)) {
                    continue;
                }
                throw raced;
            }
            PosixFileAttributeView view =
                    Files.getFileAttributeView(created, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (group.isPresent()) {
                view.setGroup(group.get());
            }
            // After the group: the umask may have narrowed the mode, and a setgid parent may have added a bit.
            view.setPermissions(mode);
            fsyncDirectory(created.getParent());
        }
    }

    /**
     * Removes the temporary files ({@code .<targetName>.tmp-<16 hex>}) that {@link #writeAtomically} and
     * {@link #createNoReplace} (the master key's creation) leave in {@code dir} when the process is killed between
     * creating and publishing them; for start-up, before anything writes {@code targetName} again. Only regular files with exactly
     * that name pattern are removed (never through a link), and the removal is made durable.
     *
     * @return how many were removed
     */
    public static int removeLeftoverTemporaries(Path dir, String targetName) throws IOException {
        if (targetName.isEmpty() || targetName.contains("/")) {
            throw new IllegalArgumentException("targetName must be a file name");
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        java.util.regex.Pattern ours = java.util.regex.Pattern.compile(
                java.util.regex.Pattern.quote("." + targetName + ".tmp-") + "[0-9a-f]{16}");
        int removed = 0;
        try (java.nio.file.DirectoryStream<Path> entries = Files.newDirectoryStream(dir,
                entry -> ours.matcher(entry.getFileName().toString()).matches())) {
            for (Path entry : entries) {
                if (Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(entry)) {
                    removed++;
                }
            }
        }
        if (removed > 0) {
            fsyncDirectory(dir);
        }
        return removed;
    }

    /**
     * Creates {@code file} empty with exactly {@code mode} if it does not exist (never through a link), and
     * takes group and other bits off it if it does: for files another component opens and would create with
     * the umask's mode (the SQLite database).
     */
    public static void createPrivate(Path file, Set<PosixFilePermission> mode) throws IOException {
        try {
            FileChannel.open(file, Set.<OpenOption>of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(mode)).close();
            Files.setPosixFilePermissions(file, mode);
            fsyncDirectory(file.toAbsolutePath().getParent());
        } catch (FileAlreadyExistsException exists) {
            narrowToOwner(file);
        }
    }

    /** Takes group and other permissions off a regular file (not a link), if it exists. */
    public static void narrowToOwner(Path file) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> mode = view.readAttributes().permissions();
        if (mode.retainAll(OWNER_DIR)) {
            view.setPermissions(mode);
        }
    }

    /** Makes a rename or create in {@code dir} durable. */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Deletes a file and makes the deletion durable. */
    public static void deleteDurably(Path file) throws IOException {
        if (Files.deleteIfExists(file)) {
            fsyncDirectory(file.toAbsolutePath().getParent());
        }
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return b;
    }
}
