-- Secret versions: one row per version of a generated secret. ciphertext is an Envelope blob
-- bound to (environment, secret, version); it is set to NULL when the version is RETIRED or
-- REVOKED, so a destroyed value cannot be brought back from the database.
CREATE TABLE secret_version (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    environment    TEXT    NOT NULL,
    secret         TEXT    NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    state          TEXT    NOT NULL CHECK (state IN ('PENDING', 'CURRENT', 'PREVIOUS', 'RETIRED', 'REVOKED')),
    ciphertext     BLOB,
    fingerprint    TEXT    NOT NULL,
    rotation_id    TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    promoted_at    INTEGER,
    previous_since INTEGER,
    ended_at       INTEGER,
    UNIQUE (environment, secret, version),
    CHECK ((state IN ('RETIRED', 'REVOKED')) = (ciphertext IS NULL))
);
-- The invariants the engine relies on, enforced by the database as well.
CREATE UNIQUE INDEX secret_version_one_current ON secret_version (environment, secret) WHERE state = 'CURRENT';
CREATE UNIQUE INDEX secret_version_one_previous ON secret_version (environment, secret) WHERE state = 'PREVIOUS';
CREATE UNIQUE INDEX secret_version_one_pending ON secret_version (environment, secret) WHERE state = 'PENDING';

-- Rotations are durable jobs; steps are their journal.
CREATE TABLE rotation (
    id           TEXT    PRIMARY KEY CHECK (length(id) = 16),
    environment  TEXT    NOT NULL,
    secret       TEXT,
    kind         TEXT    NOT NULL CHECK (kind IN ('INITIAL', 'IMPORT', 'MANUAL', 'SCHEDULED', 'EMERGENCY', 'ROLLBACK')),
    status       TEXT    NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'ROLLED_BACK')),
    from_version INTEGER,
    to_version   INTEGER,
    requested_by TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    requested_at INTEGER NOT NULL,
    finished_at  INTEGER,
    incident     TEXT
);
-- One rotation per secret at a time (an EMERGENCY, secret NULL, is checked by the engine).
CREATE UNIQUE INDEX rotation_one_active ON rotation (environment, secret) WHERE status IN ('PENDING', 'RUNNING');
CREATE INDEX rotation_requested ON rotation (requested_at);

CREATE TABLE rotation_step (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rotation_id TEXT    NOT NULL REFERENCES rotation (id),
    name        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('DONE', 'FAILED', 'SKIPPED')),
    at          INTEGER NOT NULL,
    detail      TEXT
);
CREATE INDEX rotation_step_rotation ON rotation_step (rotation_id, id);

-- What was last written to each environment's env file, for reads, drift checks and recovery.
CREATE TABLE env_file_state (
    environment     TEXT    PRIMARY KEY,
    path            TEXT    NOT NULL,
    mode            TEXT    NOT NULL,
    sha256          TEXT    NOT NULL CHECK (length(sha256) = 64),
    bytes           INTEGER NOT NULL,
    secret_versions TEXT    NOT NULL,
    written_at      INTEGER NOT NULL
);
