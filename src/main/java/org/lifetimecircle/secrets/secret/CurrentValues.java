package org.lifetimecircle.secrets.secret;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;

/** The CURRENT and PREVIOUS versions of an environment's secrets, read together and decrypted for rendering. */
@ApplicationScoped
public class CurrentValues {

    /** One secret's readable versions; previous is null when there is none. */
    public record Slot(SecretVersionEntity current, SecretVersionEntity previous) {
    }

    private static final String READABLE = "select secret, version, state, ciphertext, promoted_at from secret_version "
            + "where environment = ? and state in ('CURRENT', 'PREVIOUS')";

    private final EntityManager em;
    private final AgroalDataSource dataSource;
    private final SecretStore store;

    CurrentValues(EntityManager em, AgroalDataSource dataSource, SecretStore store) {
        this.em = em;
        this.dataSource = dataSource;
        this.store = store;
    }

    /**
     * The environment's CURRENT and PREVIOUS rows, by secret, from one statement so a rotation that
     * commits meanwhile is seen entirely or not at all.
     */
    public Map<String, Slot> slots(String environment) {
        // Two scalar parameters, not "in ?2": a list parameter keeps Hibernate from caching the SQL translation.
        List<SecretVersionEntity> rows = em.createQuery("from SecretVersionEntity v where v.environment = ?1 "
                        + "and (v.state = ?2 or v.state = ?3)", SecretVersionEntity.class)
                .setParameter(1, environment)
                .setParameter(2, VersionState.CURRENT)
                .setParameter(3, VersionState.PREVIOUS)
                .getResultList();
        return bySecret(rows);
    }

    /**
     * The same as {@link #slots}, read with plain JDBC on an autocommit connection (one statement, so
     * just as consistent) into detached rows that hold only what rendering needs: for serving the env
     * file on every fetch without a transaction or a Hibernate session. Never for code that changes the
     * rows, nor inside a writer unit (it would not see the unit's own changes).
     */
    public Map<String, Slot> readableSlots(String environment) {
        List<SecretVersionEntity> rows = new java.util.ArrayList<>(4);
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(READABLE)) {
            ps.setString(1, environment);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    SecretVersionEntity v = new SecretVersionEntity();
                    v.environment = environment;
                    v.secret = rs.getString(1);
                    v.version = rs.getLong(2);
                    v.state = VersionState.valueOf(rs.getString(3));
                    v.ciphertext = rs.getBytes(4);
                    long promoted = rs.getLong(5);
                    v.promotedAt = rs.wasNull() ? null : Instant.ofEpochMilli(promoted);
                    rows.add(v);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading the versions of " + environment + " failed", e);
        }
        return bySecret(rows);
    }

    private static Map<String, Slot> bySecret(List<SecretVersionEntity> rows) {
        Map<String, SecretVersionEntity> current = new HashMap<>();
        Map<String, SecretVersionEntity> previous = new HashMap<>();
        for (SecretVersionEntity v : rows) {
            (v.state == VersionState.CURRENT ? current : previous).put(v.secret, v);
        }
        Map<String, Slot> out = new HashMap<>();
        current.forEach((name, c) -> out.put(name, new Slot(c, previous.get(name))));
        return out;
    }

    /**
     * The values to render, or empty while a secret of the policy has no CURRENT version yet. They are
     * {@link ErasableChars}, never Strings: {@code envfile.EnvFileRenderer#render}
     * erases them once they are in the file's bytes.
     */
    public Optional<Map<String, SecretValues>> values(EnvironmentPolicy policy, Map<String, Slot> slots) {
        Map<String, SecretValues> out = new HashMap<>();
        for (SecretPolicy s : policy.secrets().values()) {
            Slot slot = slots.get(s.name());
            if (slot == null) {
                out.values().forEach(SecretValues::erase);
                return Optional.empty();
            }
            out.put(s.name(), values(s, slot.current(), slot.previous()));
        }
        return Optional.of(out);
    }

    /** {@code current} rendered as CURRENT, with {@code previous} exported if the policy asks for it. */
    public SecretValues values(SecretPolicy s, SecretVersionEntity current, SecretVersionEntity previous) {
        ErasableChars prev = previous != null && s.exportPreviousAs().isPresent() ? reveal(previous) : null;
        try {
            return new SecretValues(current.version, current.promotedAt, reveal(current),
                    Optional.<CharSequence>ofNullable(prev));
        } catch (RuntimeException e) {
            if (prev != null) {
                prev.erase();
            }
            throw e;
        }
    }

    // Decoded from a copy of the value's UTF-8 bytes into an erasable char array: no String is made. The
    // SecretValue and the byte copy are erased here, the characters by the renderer.
    private ErasableChars reveal(SecretVersionEntity v) {
        try (SecretValue value = store.open(v)) {
            byte[] utf8 = value.utf8Copy();
            try {
                return ErasableChars.fromUtf8(utf8);
            } finally {
                Arrays.fill(utf8, (byte) 0);
            }
        }
    }
}
