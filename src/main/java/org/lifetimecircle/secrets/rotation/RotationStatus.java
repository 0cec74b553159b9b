package org.lifetimecircle.secrets.rotation;

/** Where a rotation job is; PENDING and RUNNING are the only states a crash can leave behind. */
public enum RotationStatus {
    PENDING, RUNNING, COMPLETED, FAILED, ROLLED_BACK;

    public boolean finished() {
        return this != PENDING && this != RUNNING;
    }
}
