package org.lifetimecircle.secrets.secret;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;

/**
 * The CURRENT and PREVIOUS versions of an environment's secrets, read together and decrypted for rendering.
 *
 * <p>The rows come from one of two reads of the same statement, because of who asks (see the
 * persistence rule in {@link org.lifetimecircle.secrets.db}): {@link #slots} gives entities of the
 * caller's transaction, for code that runs in a writer unit or a read transaction and may go on to
 * change them; {@link #readableSlots} gives detached rows from one autocommit statement, for the env-file
 * fetch that runs on every request without a transaction. This class itself never touches the database.
 */
@ApplicationScoped
public class CurrentValues {

    /** One secret's readable versions; previous is null when there is none. */
    public record Slot(SecretVersionEntity current, SecretVersionEntity previous) {
    }

    private final SecretVersionRepository versions;
    private final SecretVersionRows rows;
    private final SecretStore store;

    CurrentValues(SecretVersionRepository versions, SecretVersionRows rows, SecretStore store) {
        this.versions = versions;
        this.rows = rows;
        this.store = store;
    }

    /**
     * The environment's CURRENT and PREVIOUS rows, by secret, as entities of the current transaction
     * (from one statement, so a rotation that commits meanwhile is seen entirely or not at all).
     */
    public Map<String, Slot> slots(String environment) {
        return bySecret(versions.readable(environment));
    }

    /**
     * The same as {@link #slots}, as detached rows that hold only what rendering needs, read without a
     * transaction or a Hibernate session ({@link SecretVersionRows}): for serving the env file on every
     * fetch. Never for code that changes the rows, nor inside a writer unit (it would not see the
     * unit's own changes).
     */
    public Map<String, Slot> readableSlots(String environment) {
        return bySecret(rows.readable(environment));
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
