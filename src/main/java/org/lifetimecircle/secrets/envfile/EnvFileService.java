package org.lifetimecircle.secrets.envfile;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;

/**
 * Where each environment's env file lives (under {@code ltc-secrets.file-root}), one lock per
 * environment so a rotation and a write never interleave, and the durable record of what was last
 * written. Rendering and the atomic write itself are {@link EnvFileRenderer} and {@link EnvFileWriter}.
 */
@ApplicationScoped
public class EnvFileService {

    private final LtcSecretsConfig config;
    private final EntityManager em;
    private final EnvFileWriter writer;
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    EnvFileService(LtcSecretsConfig config, EntityManager em, EnvFileWriter writer) {
        this.config = config;
        this.em = em;
        this.writer = writer;
    }

    /** The real path of the policy's env file: its absolute path resolved under the file root. */
    public Path target(EnvironmentPolicy policy) {
        return config.fileRoot().resolve(policy.envFile().path().substring(1));
    }

    /** Held while an environment's file is rendered, written and recorded. */
    public ReentrantLock lock(String environment) {
        return locks.computeIfAbsent(environment, e -> new ReentrantLock());
    }

    /** Atomically and durably replaces the env file with {@code content}, then checks it on disk. */
    public EnvFileWriter.WriteResult write(EnvironmentPolicy policy, byte[] content) {
        return writer.write(target(policy), content, policy.envFile().mode(), policy.envFile().group());
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

    /** The SHA-256 of the file on disk, if it is a regular file we can read. */
    public Optional<String> sha256OnDisk(EnvironmentPolicy policy) {
        Path file = target(policy);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            byte[] content = Files.readAllBytes(file);
            try {
                return Optional.of(EnvFileRenderer.sha256Hex(content));
            } finally {
                java.util.Arrays.fill(content, (byte) 0);
            }
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Removes temporary files a crash left beside the env file; for start-up. */
    public int removeLeftovers(EnvironmentPolicy policy) {
        Path file = target(policy);
        return EnvFileWriter.removeLeftoverTempFiles(file.getParent(), file.getFileName().toString());
    }

    /** Records a write; call inside the writer unit that audits it. */
    public void recordWrite(EnvironmentPolicy policy, EnvFileWriter.WriteResult result, String secretVersions,
                            Instant at) {
        EnvFileStateEntity s = em.find(EnvFileStateEntity.class, policy.environment());
        if (s == null) {
            s = new EnvFileStateEntity();
            s.environment = policy.environment();
            fill(s, policy, result, secretVersions, at);
            em.persist(s);
        } else {
            fill(s, policy, result, secretVersions, at);
        }
    }

    public Optional<EnvFileStateEntity> lastWrite(String environment) {
        return Optional.ofNullable(em.find(EnvFileStateEntity.class, environment));
    }

    private static void fill(EnvFileStateEntity s, EnvironmentPolicy policy, EnvFileWriter.WriteResult result,
                             String secretVersions, Instant at) {
        s.path = policy.envFile().path();
        s.mode = result.mode();
        s.sha256 = result.sha256();
        s.bytes = result.bytes();
        s.secretVersions = secretVersions;
        s.writtenAt = at;
    }

    /** {@code NAME:version,…} for headers, audit details and the write record. */
    public static String versions(Map<String, SecretValues> values) {
        StringJoiner j = new StringJoiner(",");
        new TreeMap<>(values).forEach((name, v) -> j.add(name + ":" + v.version()));
        return j.toString();
    }
}
