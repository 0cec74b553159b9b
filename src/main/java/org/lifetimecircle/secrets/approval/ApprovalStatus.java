package org.lifetimecircle.secrets.approval;

/** PENDING until a second person approves or denies it, or it lapses (EXPIRED). Only PENDING changes. */
public enum ApprovalStatus {
    PENDING, APPROVED, DENIED, EXPIRED
}
