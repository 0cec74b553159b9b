package org.lifetimecircle.secrets.policy;

import java.util.Locale;

/** What to do when a secret is older than its {@code rotateEvery}. */
public enum OverdueAction {
    FLAG, ROTATE, EMERGENCY;

    /** The name used in policy files, e.g. {@code flag}. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
