package org.lifetimecircle.secrets.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Tests that need root (chown to another user, chattr +i) run in CI, which runs as root, and are skipped
 * for a developer's own user instead of failing there: the README's test command must pass for both.
 */
public final class AsRoot {

    private AsRoot() {
    }

    /** Skips the calling test unless this JVM runs as root; {@code why} says what needs it. */
    public static void assume(String why) {
        assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0, why + " needs root (CI runs as root)");
    }
}
