package org.lifetimecircle.secrets.secret;

/**
 * The life of a secret version. PENDING while a rotation prepares it; one CURRENT (in the env
 * file); at most one PREVIOUS (still readable for its grace); RETIRED and REVOKED have had their
 * ciphertext destroyed (REVOKED: withdrawn in an emergency, never to come back).
 */
public enum VersionState {
    PENDING, CURRENT, PREVIOUS, RETIRED, REVOKED;

    /** Whether the value can still be decrypted. */
    public boolean readable() {
        return this == PENDING || this == CURRENT || this == PREVIOUS;
    }
}
