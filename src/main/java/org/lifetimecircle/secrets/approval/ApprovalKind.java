package org.lifetimecircle.secrets.approval;

/** What a request asks for. */
public enum ApprovalKind {
    GRANT, ROTATION
}
