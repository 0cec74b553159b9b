package org.lifetimecircle.secrets.rotation;

/**
 * How a journaled rotation step went. Stored ({@code rotation_step.status}) and shown in the API by its
 * name, the same strings as before it was an enum.
 */
public enum StepStatus {
    DONE, FAILED, SKIPPED;

    /** DONE if {@code ok}, else FAILED. */
    public static StepStatus of(boolean ok) {
        return ok ? DONE : FAILED;
    }
}
