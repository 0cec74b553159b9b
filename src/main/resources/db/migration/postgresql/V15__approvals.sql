-- Two-person approval (issue 23). A grant or rotation on an environment whose policy asks for approval is
-- first a request here; a second person's approval creates the grant or starts the rotation in the same
-- commit (grant_id / rotation_id). Rows are never deleted: who asked and who approved is history.
CREATE TABLE approval (
    id                 TEXT    PRIMARY KEY CHECK (length(id) = 16),
    kind               TEXT    NOT NULL CHECK (kind IN ('GRANT', 'ROTATION')),
    environment        TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'DENIED', 'EXPIRED')),
    requested_by_id    BIGINT  NOT NULL REFERENCES principal (id),
    requested_at       BIGINT  NOT NULL,
    expires_at         BIGINT  NOT NULL CHECK (expires_at > requested_at),
    reason             TEXT    NOT NULL,
    -- The environment policy the request was judged under (EnvironmentPolicy.fingerprint): changed, no approval.
    policy_fingerprint TEXT    NOT NULL,
    -- GRANT: the grantee, the permission and the lifetime, counted from the approval.
    grantee_id         BIGINT  REFERENCES principal (id),
    permission         TEXT    CHECK (permission IN ('secret:rotate', 'env-file:read', 'env-file:write')),
    ttl_seconds        BIGINT  CHECK (ttl_seconds > 0),
    -- ROTATION: the secret and kind; an IMPORT's value sealed under the master key until it is decided
    -- (bound to this approval, re-wrapped by a master-key rotation, set NULL once decided).
    secret             TEXT,
    rotation_kind      TEXT    CHECK (rotation_kind IN ('MANUAL', 'ROLLBACK', 'IMPORT')),
    import_ciphertext  BYTEA,
    import_fingerprint TEXT,
    decided_by_id      BIGINT  REFERENCES principal (id),
    decided_at         BIGINT ,
    decision_reason    TEXT,
    grant_id           TEXT    REFERENCES access_grant (id),
    rotation_id        TEXT    REFERENCES rotation (id),
    CHECK ((kind = 'GRANT') = (grantee_id IS NOT NULL AND permission IS NOT NULL AND ttl_seconds IS NOT NULL)),
    CHECK ((kind = 'ROTATION') = (secret IS NOT NULL AND rotation_kind IS NOT NULL)),
    CHECK ((status = 'PENDING') = (decided_at IS NULL))
);
CREATE INDEX approval_pending ON approval (expires_at) WHERE status = 'PENDING';
CREATE INDEX approval_requested ON approval (requested_at);

-- Who approved a grant or a rotation (null: it needed no approval).
ALTER TABLE access_grant ADD COLUMN approved_by TEXT;
ALTER TABLE access_grant ADD COLUMN approval_id TEXT;
ALTER TABLE rotation ADD COLUMN approved_by TEXT;
ALTER TABLE rotation ADD COLUMN approval_id TEXT;
-- An EMERGENCY in an environment with approvals runs at once and waits for a second person's review instead.
ALTER TABLE rotation ADD COLUMN review_required INTEGER NOT NULL DEFAULT 0 CHECK (review_required IN (0, 1));
ALTER TABLE rotation ADD COLUMN reviewed_by TEXT;
ALTER TABLE rotation ADD COLUMN reviewed_at BIGINT;
ALTER TABLE rotation ADD COLUMN review_reason TEXT;
-- When the "unreviewed for a day" alert went out, so it goes out once.
ALTER TABLE rotation ADD COLUMN review_alerted_at BIGINT;
