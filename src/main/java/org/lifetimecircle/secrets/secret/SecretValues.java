package org.lifetimecircle.secrets.secret;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One secret's part of an env file: its CURRENT version and that version's promotion time (both go into the
 * header), its value, and the PREVIOUS value while it is still in grace. Values are {@link CharSequence}s so a
 * self-erasing secret type can be passed without copying it into a {@code String}.
 *
 * <p>{@code promotedAt} must be fixed once the version is first written (the same instant every time it is
 * rendered), or the same version would render different bytes and look like drift.
 */
public record SecretValues(long version, Instant promotedAt, CharSequence current, Optional<CharSequence> previous) {

    public SecretValues {
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1");
        }
        Objects.requireNonNull(promotedAt, "promotedAt");
        Objects.requireNonNull(current, "current");
        Objects.requireNonNull(previous, "previous");
    }

    /** A CURRENT value with no PREVIOUS (version 1, or the previous one has been retired). */
    public SecretValues(long version, Instant promotedAt, CharSequence current) {
        this(version, promotedAt, current, Optional.empty());
    }

    /** Erases the values that can be erased ({@link ErasableChars}); idempotent. */
    public void erase() {
        if (current instanceof ErasableChars c) {
            c.erase();
        }
        if (previous.isPresent() && previous.get() instanceof ErasableChars p) {
            p.erase();
        }
    }

    /** Shows version and time only: values must never reach a log. */
    @Override
    public String toString() {
        return "SecretValues[version=" + version + ", promotedAt=" + promotedAt + ", current=<redacted>, previous="
                + (previous.isPresent() ? "<redacted>" : "<none>") + "]";
    }
}
