package org.lifetimecircle.secrets.policy;

import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/** The permissions an env file may have: owner only, or owner plus a reading group. */
public enum FileMode {
    M0600("0600", "rw-------"),
    M0640("0640", "rw-r-----");

    private final String octal;
    private final Set<PosixFilePermission> permissions;

    FileMode(String octal, String symbolic) {
        this.octal = octal;
        this.permissions = Set.copyOf(PosixFilePermissions.fromString(symbolic));
    }

    /** The mode as written in policies and shown by the API, e.g. {@code "0600"}. */
    public String octal() {
        return octal;
    }

    /** The same mode as an unmodifiable permission set. */
    public Set<PosixFilePermission> permissions() {
        return permissions;
    }

    /** The mode written exactly as {@code "0600"} or {@code "0640"}; anything else is empty. */
    public static Optional<FileMode> parse(String text) {
        for (FileMode mode : values()) {
            if (mode.octal.equals(text)) {
                return Optional.of(mode);
            }
        }
        return Optional.empty();
    }
}
