package org.lifetimecircle.secrets.crypto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.lifetimecircle.secrets.files.SecureFiles;

/** Reads the master key file, or creates it when allowed, refusing anything but a private, well-formed key. */
public final class MasterKeyLoader {

    // Standard base64 of 32 bytes: 43 data characters and one '='.
    private static final int ENCODED_LENGTH = 44;
    // Far above the 45 bytes of a valid file, yet small enough that a wrong path (a log, a database)
    // is refused by its size instead of being read into memory.
    static final int MAX_FILE_BYTES = 1024;

    private static final Set<PosixFilePermission> MODE_0400 = PosixFilePermissions.fromString("r--------");
    private static final Set<PosixFilePermission> MODE_0600 = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> MODE_0700 = PosixFilePermissions.fromString("rwx------");
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./@%+=:,-]+");
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final long PROCESS_UID = new com.sun.security.auth.module.UnixSystem().getUid();

    private MasterKeyLoader() {
    }

    /** Loads the key file; if absent and createIfMissing, creates it first (mode 0400). */
    public static MasterKey load(Path file, boolean createIfMissing) throws MasterKeyException {
        Objects.requireNonNull(file, "file");
        Path path = file.toAbsolutePath();
        PosixFileAttributes attrs = attributes(path, Role.MASTER);
        if (attrs == null) {
            if (!createIfMissing) {
                throw new MasterKeyException("master key file " + path + " does not exist; in the prod profile it"
                        + " must be provided, e.g. with systemd LoadCredential=master.key:/etc/ltc-secrets/master.key"
                        + " (the service then reads $CREDENTIALS_DIRECTORY/master.key) or by pointing"
                        + " ltc-secrets.master-key-file at it; create the source file once with: "
                        + createCommand(Path.of("/etc/ltc-secrets/master.key")));
            }
            create(path);
            attrs = attributes(path, Role.MASTER);
            if (attrs == null) {
                throw new MasterKeyException("master key file " + path + " disappeared right after it was created;"
                        + " check that nothing else manages files in " + path.getParent());
            }
        }
        return readExisting(path, attrs, Role.MASTER);
    }

    /**
     * Loads the previous master key of a master-key rotation, with exactly the checks of {@link #load}
     * (regular file, mode 0400 or 0600, canonical base64 of 32 bytes); it is never created: a new
     * random "previous" key could open nothing.
     */
    public static MasterKey loadPrevious(Path file) throws MasterKeyException {
        Objects.requireNonNull(file, "file");
        Path path = file.toAbsolutePath();
        PosixFileAttributes attrs = attributes(path, Role.PREVIOUS);
        if (attrs == null) {
            throw new MasterKeyException(Role.PREVIOUS.label + " " + path + " does not exist; it must hold the old"
                    + " master key the stored data is sealed under (put its backup there, mode 0400), or, if the"
                    + " re-wrap has already completed, remove ltc-secrets.previous-master-key-file");
        }
        return readExisting(path, attrs, Role.PREVIOUS);
    }

    /** Which key file a message is about: the wording of every diagnosis names it. */
    private enum Role {
        MASTER("master key file"),
        PREVIOUS("previous master key file");

        final String label;

        Role(String label) {
            this.label = label;
        }
    }

    // ---- reading -------------------------------------------------------------------------------

    /** The file's own attributes (never a link target's), or null if it does not exist. */
    private static PosixFileAttributes attributes(Path path, Role role) {
        try {
            return Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (UnsupportedOperationException e) {
            throw new MasterKeyException(role.label + " " + path + " is on a file system without POSIX"
                    + " permissions, so its privacy cannot be checked; keep it on a Linux file system");
        } catch (IOException e) {
            throw new MasterKeyException("cannot inspect " + role.label + " " + path + ": " + describe(e)
                    + "; the service user must be able to reach it", e);
        }
    }

    private static MasterKey readExisting(Path path, PosixFileAttributes attrs, Role role) {
        return readExisting(path, attrs, role, () -> {
        });
    }

    /**
     * Checks the file by its path (cheap refusals with the clearest messages, and never opening a fifo),
     * opens it without following a link, then checks the file it actually opened (type, mode, owner, size)
     * before reading from that same descriptor: a file swapped in between the two is refused, not read.
     * {@code beforeOpen} runs between the path check and the open (a test swaps the file there).
     */
    /** Test hook: loads an existing master key file, running {@code beforeOpen} between its path check and its open. */
    static MasterKey load(Path file, Runnable beforeOpen) {
        Path path = file.toAbsolutePath();
        PosixFileAttributes attrs = attributes(path, Role.MASTER);
        if (attrs == null) {
            throw new MasterKeyException("master key file " + path + " does not exist");
        }
        return readExisting(path, attrs, Role.MASTER, beforeOpen);
    }

    private static MasterKey readExisting(Path path, PosixFileAttributes attrs, Role role, Runnable beforeOpen) {
        // A symlink is refused rather than followed: its target's mode and owner are someone else's
        // business, and a writable link could silently redirect the service to another key.
        if (attrs.isSymbolicLink()) {
            throw new MasterKeyException(role.label + " " + path + " is a symbolic link; it must be a regular"
                    + " file (copy the key itself there and run: chmod 0400 " + shellQuote(path) + ")");
        }
        if (attrs.isDirectory()) {
            throw new MasterKeyException(role.label + " " + path + " is a directory; it must be a regular file"
                    + " holding the key, e.g. created with: " + createCommand(path.resolve("master.key"))
                    + " and named by ltc-secrets.master-key-file");
        }
        // Checked before opening: opening a fifo would block the start until someone writes to it.
        if (!attrs.isRegularFile()) {
            throw new MasterKeyException(role.label + " " + path + " is not a regular file (a fifo, socket or"
                    + " device); it must be a regular file holding the key");
        }
        checkMode(path, attrs.permissions(), role);
        checkSize(path, attrs.size(), role);
        beforeOpen.run();
        byte[] buffer = new byte[MAX_FILE_BYTES + 1];
        // NOFOLLOW_LINKS (O_NOFOLLOW) so a symlink swapped in after the path check is refused too.
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            checkOpened(path, opened(path, attrs, role), role);
            int length = readAtMost(channel, buffer);
            if (length > MAX_FILE_BYTES) {
                throw tooLarge(path, length, role); // it grew after the size check
            }
            return parse(path, buffer, length, role);
        } catch (IOException e) {
            throw new MasterKeyException("cannot read " + role.label + " " + path + ": " + describe(e)
                    + "; it must be readable by the service user (owner) with mode 0400", e);
        } finally {
            Arrays.fill(buffer, (byte) 0);
        }
    }

    private static void checkMode(Path path, Set<PosixFilePermission> mode, Role role) {
        if (!mode.equals(MODE_0400) && !mode.equals(MODE_0600)) {
            throw new MasterKeyException(role.label + " " + path + " has mode " + octal(mode)
                    + "; it must be 0400 or 0600 (run: chmod 0400 " + shellQuote(path) + ")");
        }
    }

    private static void checkSize(Path path, long size, Role role) {
        if (size == 0) {
            throw invalidContent(path, "is empty", role);
        }
        if (size > MAX_FILE_BYTES) {
            throw tooLarge(path, size, role);
        }
    }

    /** What the open descriptor refers to: {@code unix:} mode (with type bits), uid, ino, dev and size. */
    private static void checkOpened(Path path, Map<String, Object> opened, Role role) {
        int mode = (Integer) opened.get("mode");
        if ((mode & S_IFMT) != S_IFREG) {
            throw new MasterKeyException(role.label + " " + path + " was replaced by something other than a"
                    + " regular file while it was opened; it must be a regular file holding the key");
        }
        int permissions = mode & 07777;
        if (permissions != 0400 && permissions != 0600) {
            throw new MasterKeyException(role.label + " " + path + " has mode " + String.format("%04o", permissions)
                    + "; it must be 0400 or 0600 (run: chmod 0400 " + shellQuote(path) + ")");
        }
        long uid = ((Number) opened.get("uid")).longValue();
        // The service's user, or root (systemd's credential files, where it cannot hand them over, stay root's).
        if (uid != PROCESS_UID && uid != 0) {
            throw new MasterKeyException(role.label + " " + path + " is owned by uid " + uid + ", not by the"
                    + " service's user (uid " + PROCESS_UID + ") or root; anyone who owns it can change its mode"
                    + " or content (run: chown " + PROCESS_UID + " " + shellQuote(path) + ")");
        }
        checkSize(path, ((Number) opened.get("size")).longValue(), role);
    }

    /**
     * The attributes of the file the just-opened descriptor refers to, not of whatever the path names now.
     *
     * <p>The JDK has no fstat(2): {@code Files.readAttributes} on a path stats the path again, and a
     * {@code FileChannel} does not tell its descriptor's number. Linux's {@code /proc/self/fd/N} is a link
     * to the open file itself, and stat(2) through it is fstat(2) of that descriptor; so the entries whose
     * link names this path are stat'ed through (the newest of them is ours; if two disagree about which
     * file that is, the key is refused rather than guessed). Reflection into the channel for its number
     * would need {@code --add-opens} on the command line of every start, tests included. Where there is no
     * {@code /proc} (not Linux), or the path's directory is reached through a link so no entry names it
     * literally, the path is stat'ed again after the open and must be the same file (device and inode) as
     * before it: a swap between the two stats is then not caught, which is the weaker check we fall back to.
     */
    private static Map<String, Object> opened(Path path, PosixFileAttributes before, Role role) throws IOException {
        Map<String, Object> found = null;
        Path fds = Path.of("/proc/self/fd");
        if (Files.isDirectory(fds)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
                for (Path fd : entries) {
                    Path target;
                    try {
                        target = Files.readSymbolicLink(fd);
                    } catch (IOException closedMeanwhile) {
                        continue;
                    }
                    if (!target.equals(path)) {
                        continue;
                    }
                    Map<String, Object> a = Files.readAttributes(fd, "unix:mode,uid,ino,dev,size");
                    if (found != null && !(found.get("ino").equals(a.get("ino")) && found.get("dev").equals(a.get("dev")))) {
                        throw new MasterKeyException(role.label + " " + path + " changed while it was opened;"
                                + " start again, and check what else writes to " + path.getParent());
                    }
                    found = a;
                }
            } catch (IOException | UnsupportedOperationException noProc) {
                found = null;
            }
        }
        if (found != null) {
            return found;
        }
        PosixFileAttributes again = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        Map<String, Object> after = Files.readAttributes(path, "unix:mode,uid,ino,dev,size", LinkOption.NOFOLLOW_LINKS);
        if (before.fileKey() == null || !before.fileKey().equals(again.fileKey())) {
            throw new MasterKeyException(role.label + " " + path + " changed while it was opened; start again,"
                    + " and check what else writes to " + path.getParent());
        }
        return after;
    }

    /** Reads up to buffer.length bytes; a file longer than that shows up as a full buffer. */
    private static int readAtMost(FileChannel channel, byte[] buffer) throws IOException {
        ByteBuffer target = ByteBuffer.wrap(buffer);
        while (target.hasRemaining() && channel.read(target) >= 0) {
            // keep reading until the buffer is full or the file ends
        }
        return target.position();
    }

    private static MasterKey parse(Path path, byte[] content, int contentLength, Role role) {
        if (contentLength == 0) {
            throw invalidContent(path, "is empty", role);
        }
        // At most one trailing "\n" (what `openssl rand -base64 32 > FILE` writes) is tolerated.
        int length = content[contentLength - 1] == '\n' ? contentLength - 1 : contentLength;
        boolean carriageReturn = false;
        boolean newline = false;
        boolean whitespace = false;
        boolean urlSafe = false;
        boolean otherCharacter = false;
        for (int i = 0; i < length; i++) {
            byte b = content[i];
            if (b == '\r') {
                carriageReturn = true;
            } else if (b == '\n') {
                newline = true;
            } else if (b == ' ' || b == '\t' || b == '\f' || b == 0x0b) {
                whitespace = true;
            } else if (b == '-' || b == '_') {
                urlSafe = true;
            } else if (sextet(b) < 0 && b != '=') {
                otherCharacter = true;
            }
        }
        // The diagnoses name the kind of problem only, never a character or its position.
        if (carriageReturn) {
            throw invalidContent(path, "contains a carriage return (Windows CRLF line ending); only the 44 base64"
                    + " characters and at most one \\n are allowed", role);
        }
        if (newline) {
            throw invalidContent(path, "has more than one line or more than one trailing newline; only the 44"
                    + " base64 characters and at most one \\n are allowed", role);
        }
        if (whitespace) {
            throw invalidContent(path, "contains spaces or tabs; only the 44 base64 characters and at most one \\n"
                    + " are allowed", role);
        }
        if (urlSafe) {
            throw invalidContent(path, "is not valid base64: it uses the URL-safe alphabet (- and _) where standard"
                    + " base64 (RFC 4648) uses + and /", role);
        }
        if (otherCharacter) {
            throw invalidContent(path, "is not valid base64: it contains characters outside the standard alphabet"
                    + " A-Z a-z 0-9 + / and = padding", role);
        }
        int padding = 0;
        while (padding < length && content[length - 1 - padding] == '=') {
            padding++;
        }
        int dataLength = length - padding;
        for (int i = 0; i < dataLength; i++) {
            if (content[i] == '=') {
                throw invalidContent(path, "is not valid base64: it has = padding before the end", role);
            }
        }
        if (padding > 2 || length % 4 != 0) {
            throw invalidContent(path, "is not valid base64: its length of " + length + " characters does not fit"
                    + " padded base64 (a 32-byte key is " + ENCODED_LENGTH + " characters ending in =)", role);
        }
        int decodedLength = length / 4 * 3 - padding;
        if (decodedLength != MasterKey.LENGTH) {
            throw invalidContent(path, "decodes to " + decodedLength + " bytes; it must be " + MasterKey.LENGTH, role);
        }
        // Canonical encodings only: the unused low bits of the last data character must be zero, so
        // that one key has exactly one valid file content.
        int unusedBits = padding == 1 ? 0x03 : padding == 2 ? 0x0f : 0;
        if ((sextet(content[dataLength - 1]) & unusedBits) != 0) {
            throw invalidContent(path, "is not valid base64: its last character carries stray bits (not a"
                    + " canonical encoding)", role);
        }
        byte[] encoded = Arrays.copyOf(content, length);
        byte[] decoded = new byte[decodedLength];
        try {
            Base64.getDecoder().decode(encoded, decoded);
            return new MasterKey(decoded);
        } catch (IllegalArgumentException e) {
            // Unreachable after the checks above; the cause is dropped because it quotes content.
            throw invalidContent(path, "is not valid base64", role);
        } finally {
            Arrays.fill(encoded, (byte) 0);
            Arrays.fill(decoded, (byte) 0);
        }
    }

    /** The 6-bit value of a standard base64 character, or -1. */
    private static int sextet(byte b) {
        if (b >= 'A' && b <= 'Z') {
            return b - 'A';
        }
        if (b >= 'a' && b <= 'z') {
            return b - 'a' + 26;
        }
        if (b >= '0' && b <= '9') {
            return b - '0' + 52;
        }
        if (b == '+') {
            return 62;
        }
        if (b == '/') {
            return 63;
        }
        return -1;
    }

    private static MasterKeyException tooLarge(Path path, long size, Role role) {
        return invalidContent(path, "is " + size + " bytes; a master key file is " + ENCODED_LENGTH + " bytes ("
                + (ENCODED_LENGTH + 1) + " with a trailing newline), so this is probably the wrong file", role);
    }

    private static MasterKeyException invalidContent(Path path, String problem, Role role) {
        if (role == Role.PREVIOUS) {
            return new MasterKeyException(role.label + " " + path + " " + problem + "; restore the old master key"
                    + " from backup: until the re-wrap has run it is the only key that opens the stored data");
        }
        return new MasterKeyException(role.label + " " + path + " " + problem + "; restore the original key"
                + " from backup (data encrypted under it cannot be decrypted with another), or, for a new"
                + " installation, create one with: " + createCommand(path));
    }

    private static String createCommand(Path path) {
        String file = shellQuote(path);
        return "openssl rand -base64 32 > " + file + " && chmod 0400 " + file;
    }

    // ---- creating ------------------------------------------------------------------------------

    private static void create(Path path) {
        Path dir = path.getParent();
        if (dir == null) {
            throw new MasterKeyException("master key file " + path + " has no parent directory; name a file"
                    + " inside the data directory");
        }
        ensureDirectory(dir);
        byte[] key = new byte[MasterKey.LENGTH];
        byte[] line = null;
        try {
            Randoms.strong().nextBytes(key);
            line = encodeLine(key);
            // Mode 0400 from the temporary file's creation on, published without ever replacing a key file.
            SecureFiles.createNoReplace(path, line, MODE_0400);
        } catch (FileAlreadyExistsException e) {
            // A key file appeared meanwhile (a second instance starting at the same time): that key wins, ours
            // is dropped, and the caller loads theirs. Overwriting it could make everything it wrapped undecryptable.
        } catch (IOException e) {
            throw new MasterKeyException("cannot create master key file " + path + ": " + describe(e)
                    + "; make " + dir + " writable by the service user, or provide the key yourself with: "
                    + createCommand(path), e);
        } finally {
            Arrays.fill(key, (byte) 0);
            if (line != null) {
                Arrays.fill(line, (byte) 0);
            }
        }
    }

    private static void ensureDirectory(Path dir) {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            // rwx------ at creation; the umask can only narrow it further.
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(MODE_0700));
            if (dir.getParent() != null) {
                syncDirectoryQuietly(dir.getParent()); // so the new directory survives a crash along with the key
            }
        } catch (FileAlreadyExistsException e) {
            throw new MasterKeyException("cannot create master key file in " + dir + ": it exists but is not a"
                    + " directory; set ltc-secrets.master-key-file (or ltc-secrets.data-dir) to a path in a"
                    + " directory");
        } catch (IOException e) {
            throw new MasterKeyException("cannot create directory " + dir + " for the master key: " + describe(e)
                    + "; create it with: mkdir -m 0700 -p " + shellQuote(dir), e);
        }
    }

    /** Makes the directory entries durable; a no-op where the file system cannot fsync directories. */
    private static void syncDirectoryQuietly(Path dir) {
        try {
            SecureFiles.fsyncDirectory(dir);
        } catch (IOException e) {
            // Some file systems (and non-Linux platforms) refuse to open or fsync a directory; the directory
            // itself is made, so there is nothing better to do.
        }
    }

    private static byte[] encodeLine(byte[] key) {
        byte[] encoded = Base64.getEncoder().encode(key);
        try {
            byte[] line = Arrays.copyOf(encoded, encoded.length + 1);
            line[encoded.length] = '\n';
            return line;
        } finally {
            Arrays.fill(encoded, (byte) 0);
        }
    }

    // ---- messages ------------------------------------------------------------------------------

    private static String octal(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (PosixFilePermission p : permissions) {
            // The enum runs OWNER_READ .. OTHERS_EXECUTE, i.e. from bit 8 down to bit 0.
            mode |= 1 << (8 - p.ordinal());
        }
        return String.format("%04o", mode);
    }

    private static String describe(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** The path as a shell word, so the suggested commands can be pasted as they are. */
    private static String shellQuote(Path path) {
        String s = path.toString();
        return SHELL_SAFE.matcher(s).matches() ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
