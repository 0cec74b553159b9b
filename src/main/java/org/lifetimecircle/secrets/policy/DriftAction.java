package org.lifetimecircle.secrets.policy;

import java.util.Locale;

/** What to do when the env file on disk is not what the service last wrote. */
public enum DriftAction {
    FLAG, REPAIR, EMERGENCY;

    /** The name used in policy files, e.g. {@code repair}. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
