package org.lifetimecircle.secrets.audit;

/** How the recorded action ended. */
public enum Outcome {
    SUCCESS, DENIED, FAILED
}
