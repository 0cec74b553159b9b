package org.lifetimecircle.secrets.envfile;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.files.IoReasons;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.secret.SecretValues;

/**
 * Where each environment's env file lives (under {@code ltc-secrets.file-root}), one lock per
 * environment so a rotation and a write never interleave, and how the file on disk compares with what
 * it should be. Rendering and the atomic write itself are {@link EnvFileRenderer} and {@link EnvFileWriter};
 * the record of what was last written is {@link EnvFileStates}.
 */
@ApplicationScoped
public class EnvFileService {

    private final LtcSecretsConfig config;
    private final EnvFileStates states;
    private final EnvFileWriter writer;
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    // After a restore no env file is written until an admin releases the hold (every writer comes through here).
    @jakarta.inject.Inject
    org.lifetimecircle.secrets.restorehold.EnvFileHold hold;

    EnvFileService(LtcSecretsConfig config, EnvFileStates states, EnvFileWriter writer) {
        this.config = config;
        this.states = states;
        this.writer = writer;
    }

    /** The real path of the policy's env file: its absolute path resolved under the file root. */
    public Path target(EnvironmentPolicy policy) {
        return config.fileRoot().resolve(policy.envFile().path().substring(1));
    }

    /** The file is not touched while a restore's hold is in force: callers treat it as a failed write. */
    private void refuseWhileHeld(EnvironmentPolicy policy) {
        java.util.Optional<String> why = hold.refusal();
        if (why.isPresent()) {
            throw new EnvFileWriteException(target(policy), why.get());
        }
    }

    /** Held while an environment's file is rendered, written and recorded. */
    public ReentrantLock lock(String environment) {
        return locks.computeIfAbsent(environment, e -> new ReentrantLock());
    }

    /** Atomically and durably replaces the env file with {@code content}, then checks it on disk. */
    public EnvFileWriter.WriteResult write(EnvironmentPolicy policy, byte[] content) {
        refuseWhileHeld(policy);
        return writer.write(writableTarget(policy), content, policy.envFile().mode(), policy.envFile().group());
    }

    /**
     * The target, once no directory between the file root and the file is a symbolic link: a link there
     * (someone with write access to a parent, or a directory swapped for one) would send the secrets to
     * wherever it points, with the policy's mode but outside the policy's path. The file root itself may be
     * a link (it is configuration). Missing directories are fine: the writer creates them, never as links.
     *
     * <p>Checked by path, just before each write; a directory swapped for a link between this check and the
     * write is not caught (that would take openat(2) with O_NOFOLLOW on every component, which the JDK does
     * not offer). The drift check reports such a link afterwards ({@link #problemWith}).
     */
    Path writableTarget(EnvironmentPolicy policy) {
        Path file = target(policy).toAbsolutePath().normalize();
        String problem = pathProblem(policy);
        if (problem != null) {
            throw new EnvFileWriteException(file, problem.startsWith("has a directory")
                    ? problem + "; refusing to write through it" : problem);
        }
        return file;
    }

    /** Why the policy's path cannot be trusted below the file root (a linked directory, a dot segment), or null. */
    private String pathProblem(EnvironmentPolicy policy) {
        // The root is normalised on its own: a relative file root such as the dev profile's ./data/root is
        // configuration, not a trick; only the policy's part must be a plain path (no "." or "..").
        Path root = config.fileRoot().toAbsolutePath().normalize();
        Path relative = Path.of(policy.envFile().path().substring(1));
        return relative.normalize().equals(relative) ? linkedDirectory(root, root.resolve(relative))
                : "is not a plain path under the file root " + root;
    }

    /** Why a directory between the file root and {@code file} cannot be trusted, or null. */
    private static String linkedDirectory(Path root, Path file) {
        if (!file.normalize().startsWith(root)) {
            return "is not a plain path under the file root " + root;
        }
        Path dir = root;
        for (Path part : root.relativize(file.getParent())) {
            dir = dir.resolve(part);
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException missing) {
                return null; // the rest is created by the writer
            } catch (IOException e) {
                return "has a directory " + dir + " that cannot be inspected: " + IoReasons.reason(e);
            }
            if (a.isSymbolicLink()) {
                return "has a directory " + dir + " that is a symbolic link";
            }
            if (!a.isDirectory()) {
                // Not a link: nothing is written through it. The write or the inspection that follows fails
                // on it and says so in the OS's words ("Not a directory").
                return null;
            }
        }
        return null;
    }

    /**
     * Whether the file may be written: it is absent, or its first line is our header. A file someone
     * else put there is never overwritten by an automatic write.
     */
    public boolean absentOrOurs(EnvironmentPolicy policy) {
        Path file = target(policy);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        byte[] start = new byte[EnvFileRenderer.HEADER_PREFIX.length()];
        try (InputStream in = Files.newInputStream(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            int n = in.readNBytes(start, 0, start.length);
            return n == start.length && EnvFileRenderer.writtenByUs(start);
        } catch (NoSuchFileException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The bytes of a regular file at the target (never through a link), or null if there is none or it
     * cannot be read. For putting back a file someone else wrote when an import of its value fails;
     * the caller zeroes the array.
     */
    public byte[] readExisting(EnvironmentPolicy policy) {
        Path file = target(policy);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        try (InputStream in = Files.newInputStream(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            return in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }

    /** The keyed fingerprint of {@code content}, for records, audit details and responses. */
    public String fingerprint(byte[] content) {
        return writer.fingerprint(content);
    }

    /** The keyed fingerprint of the file on disk, if it is a regular file we can read. */
    public Optional<String> fingerprintOnDisk(EnvironmentPolicy policy) {
        return contentOnDisk(policy, writer::fingerprint);
    }

    /** The SHA-256 of the file on disk, if it is a regular file we can read; compared in-process only. */
    public Optional<String> sha256OnDisk(EnvironmentPolicy policy) {
        return contentOnDisk(policy, EnvFileRenderer::sha256Hex);
    }

    private Optional<String> contentOnDisk(EnvironmentPolicy policy, java.util.function.Function<byte[], String> digest) {
        Path file = target(policy);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            byte[] content = readNoFollow(file);
            try {
                return Optional.of(digest.apply(content));
            } finally {
                java.util.Arrays.fill(content, (byte) 0);
            }
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Writes {@code content} over whatever is at the target, a symbolic link included (replaced, never
     * followed): for repairing a file this service wrote and someone changed. Never for automatic writes
     * to a file this service may not own; those use {@link #write}.
     */
    public EnvFileWriter.WriteResult overwrite(EnvironmentPolicy policy, byte[] content) {
        refuseWhileHeld(policy);
        return writer.write(writableTarget(policy), content, policy.envFile().mode(), policy.envFile().group(), true);
    }

    /**
     * {@link #overwrite} for an emergency, also while a restore's hold is in force: every value it writes was
     * generated after the revocation, so nothing a restore may have brought back can reach the file this way.
     */
    public EnvFileWriter.WriteResult overwriteWithFreshValues(EnvironmentPolicy policy, byte[] content) {
        return writer.write(writableTarget(policy), content, policy.envFile().mode(), policy.envFile().group(), true);
    }

    private static byte[] readNoFollow(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            return in.readAllBytes();
        }
    }

    /**
     * How the file on disk differs from a regular file of this content fingerprint and size at the policy's
     * mode, owned by the service's user (and the policy's group): e.g. {@code "is missing"},
     * {@code "has mode 0644, expected 0600"}; null if it does not.
     */
    public String problemWith(EnvironmentPolicy policy, String fingerprint, long bytes) {
        Path file = target(policy);
        String linked = pathProblem(policy);
        if (linked != null) {
            return linked;
        }
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                return "is a symbolic link, not the file ltc-secrets wrote";
            }
            if (a.isDirectory()) {
                return "is a directory, not the file ltc-secrets wrote";
            }
            return writer.expected(fingerprint, bytes, policy.envFile().mode(),
                    EnvFileWriter.lookUp(file, policy.envFile().group())).problemWith(file);
        } catch (NoSuchFileException e) {
            return "is missing";
        } catch (EnvFileWriteException e) {
            return "cannot be inspected: " + e.reason();
        } catch (IOException e) {
            return "cannot be inspected: " + IoReasons.reason(e);
        }
    }

    /**
     * Why the file on disk is not a regular file at the policy's mode, owned by the service's user
     * (and the policy's group), e.g. {@code "has mode 0644, expected 0600"}; null if it is. Content is
     * not compared: that is {@link #problemWith}.
     */
    public String permissionProblem(EnvironmentPolicy policy) {
        Path file = target(policy);
        try {
            java.nio.file.attribute.PosixFileAttributes a = Files.readAttributes(file,
                    java.nio.file.attribute.PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile()) {
                return a.isSymbolicLink() ? "is a symbolic link" : "is not a regular file";
            }
            int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
            if (mode != Integer.parseInt(policy.envFile().mode().octal(), 8)) {
                return String.format("has mode %04o, expected %s", mode, policy.envFile().mode().octal());
            }
            long uid = ((Number) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
            if (uid != EnvFileWriter.processUid()) {
                return "is owned by " + a.owner().getName() + ", not by the service's user";
            }
            if (policy.envFile().group().isPresent() && !policy.envFile().group().get().equals(a.group().getName())) {
                return "has group " + a.group().getName() + ", expected " + policy.envFile().group().get();
            }
            return null;
        } catch (NoSuchFileException e) {
            return "is missing";
        } catch (IOException e) {
            return "cannot be inspected: " + IoReasons.reason(e);
        }
    }

    /**
     * What is at the target now, as one line (type, mode, owner, size, keyed content fingerprint; a link's target):
     * two drifts with the same description and the same observation are the same drift.
     */
    public String observed(EnvironmentPolicy policy) {
        Path file = target(policy);
        try {
            Map<String, Object> a = Files.readAttributes(file, "unix:mode,uid,gid,size,isSymbolicLink,isRegularFile",
                    LinkOption.NOFOLLOW_LINKS);
            String meta = String.format("mode=%04o uid=%s gid=%s size=%s", (Integer) a.get("mode") & 07777,
                    a.get("uid"), a.get("gid"), a.get("size"));
            if (Boolean.TRUE.equals(a.get("isSymbolicLink"))) {
                return "link " + meta + " to=" + Files.readSymbolicLink(file);
            }
            if (!Boolean.TRUE.equals(a.get("isRegularFile"))) {
                return "other " + meta;
            }
            return "file " + meta + " fingerprint=" + fingerprintOnDisk(policy).orElse("unreadable");
        } catch (NoSuchFileException e) {
            return "missing";
        } catch (IOException e) {
            return "uninspectable: " + IoReasons.reason(e);
        }
    }

    /** Removes temporary files a crash left beside the env file; for start-up. */
    public int removeLeftovers(EnvironmentPolicy policy) {
        Path file = target(policy);
        return EnvFileWriter.removeLeftoverTempFiles(file.getParent(), file.getFileName().toString());
    }

    /** What this service last wrote to the environment's file ({@link EnvFileStates#lastWrite}). */
    public Optional<EnvFileStateEntity> lastWrite(String environment) {
        return states.lastWrite(environment);
    }

    /** {@code NAME:version,…} for headers, audit details and the write record. */
    public static String versions(Map<String, SecretValues> values) {
        StringJoiner j = new StringJoiner(",");
        new TreeMap<>(values).forEach((name, v) -> j.add(name + ":" + v.version()));
        return j.toString();
    }
}
