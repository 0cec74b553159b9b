-- Audit archiving: a prefix of the chain moves to a signed file under <data-dir>/audit-archive/ and
-- is deleted here; an anchor row stays behind, so the live chain is verifiable from it. message is
-- the exact text that was signed (Ed25519, the audit signing key): seq and hash of the last archived
-- event, the first archived seq, the archive's file name and SHA-256, and when.
CREATE TABLE audit_anchor (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    seq         INTEGER NOT NULL UNIQUE,
    hash        TEXT    NOT NULL CHECK (length(hash) = 64),
    first_seq   INTEGER NOT NULL,
    file        TEXT    NOT NULL UNIQUE,
    sha256      TEXT    NOT NULL CHECK (length(sha256) = 64),
    signed_at   TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    signature   BLOB    NOT NULL CHECK (length(signature) = 64),
    public_key  TEXT    NOT NULL
);

CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only');
END;
CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only');
END;

-- Events are still never deleted, except those an anchor already covers: the archive's delete runs
-- after its anchor row is inserted, in the same transaction, so the database itself refuses to
-- delete an event that is not in a signed archive.
DROP TRIGGER audit_event_no_delete;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
WHEN OLD.seq > (SELECT coalesce(max(seq), 0) FROM audit_anchor)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only (only events covered by an archive anchor may be deleted)');
END;
