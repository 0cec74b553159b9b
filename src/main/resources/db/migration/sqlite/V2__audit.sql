-- The audit trail: append-only, hash-chained. seq is assigned by the single writer, gap-free.
-- time is the exact RFC 3339 text that was hashed; details is the exact canonical JSON that was hashed.
CREATE TABLE audit_event (
    seq         INTEGER PRIMARY KEY,
    time        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    environment TEXT,
    target      TEXT,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('SUCCESS', 'DENIED', 'FAILED')),
    request_id  TEXT,
    source_ip   TEXT,
    details     TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL CHECK (length(prev_hash) = 64),
    hash        TEXT    NOT NULL CHECK (length(hash) = 64)
);
CREATE INDEX audit_event_time ON audit_event (time);
CREATE INDEX audit_event_action ON audit_event (action, seq);
CREATE INDEX audit_event_environment ON audit_event (environment, seq);

-- Append-only in the database as well: the service never updates or deletes an event. Someone
-- with the file can drop these triggers, which is why the chain and signed checkpoints exist.
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

-- Signed checkpoints of the chain head; message is the exact text that was signed.
CREATE TABLE audit_checkpoint (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    seq        INTEGER NOT NULL,
    hash       TEXT    NOT NULL,
    signed_at  TEXT    NOT NULL,
    message    TEXT    NOT NULL,
    signature  BLOB    NOT NULL CHECK (length(signature) = 64),
    public_key TEXT    NOT NULL
);
CREATE INDEX audit_checkpoint_seq ON audit_checkpoint (seq);

-- Per-installation keys (audit signing key, fingerprint key), sealed under the master key.
CREATE TABLE installation_key (
    purpose    TEXT    PRIMARY KEY,
    sealed     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
