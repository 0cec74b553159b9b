package org.lifetimecircle.secrets.secret;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.envfile.SecretValues;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;

/** The CURRENT and PREVIOUS versions of an environment's secrets, read together and decrypted for rendering. */
@ApplicationScoped
public class CurrentValues {

    /** One secret's readable versions; previous is null when there is none. */
    public record Slot(SecretVersionEntity current, SecretVersionEntity previous) {
    }

    private final EntityManager em;
    private final SecretStore store;

    CurrentValues(EntityManager em, SecretStore store) {
        this.em = em;
        this.store = store;
    }

    /**
     * The environment's CURRENT and PREVIOUS rows, by secret, from one statement so a rotation that
     * commits meanwhile is seen entirely or not at all.
     */
    public Map<String, Slot> slots(String environment) {
        List<SecretVersionEntity> rows = em.createQuery("from SecretVersionEntity v where v.environment = ?1 "
                        + "and v.state in ?2", SecretVersionEntity.class)
                .setParameter(1, environment)
                .setParameter(2, List.of(VersionState.CURRENT, VersionState.PREVIOUS))
                .getResultList();
        Map<String, SecretVersionEntity> current = new HashMap<>();
        Map<String, SecretVersionEntity> previous = new HashMap<>();
        for (SecretVersionEntity v : rows) {
            (v.state == VersionState.CURRENT ? current : previous).put(v.secret, v);
        }
        Map<String, Slot> out = new HashMap<>();
        current.forEach((name, c) -> out.put(name, new Slot(c, previous.get(name))));
        return out;
    }

    /** The values to render, or empty while a secret of the policy has no CURRENT version yet. */
    public Optional<Map<String, SecretValues>> values(EnvironmentPolicy policy, Map<String, Slot> slots) {
        Map<String, SecretValues> out = new HashMap<>();
        for (SecretPolicy s : policy.secrets().values()) {
            Slot slot = slots.get(s.name());
            if (slot == null) {
                return Optional.empty();
            }
            out.put(s.name(), values(s, slot.current(), slot.previous()));
        }
        return Optional.of(out);
    }

    /** {@code current} rendered as CURRENT, with {@code previous} exported if the policy asks for it. */
    public SecretValues values(SecretPolicy s, SecretVersionEntity current, SecretVersionEntity previous) {
        Optional<CharSequence> prev = Optional.empty();
        if (previous != null && s.exportPreviousAs().isPresent()) {
            prev = Optional.of(reveal(previous));
        }
        return new SecretValues(current.version, current.promotedAt, reveal(current), prev);
    }

    // The renderer copies the characters into the file's bytes; the SecretValue itself is erased here.
    private String reveal(SecretVersionEntity v) {
        try (SecretValue value = store.open(v)) {
            return value.reveal();
        }
    }
}
