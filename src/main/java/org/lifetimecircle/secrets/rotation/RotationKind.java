package org.lifetimecircle.secrets.rotation;

/** Why a rotation happens; fixed by the API contract. */
public enum RotationKind {
    INITIAL, IMPORT, MANUAL, SCHEDULED, EMERGENCY, ROLLBACK
}
