-- The record of what was last written to an env file kept the file's plain SHA-256: a hash of
-- secret-bearing bytes that anyone with the database (or the API views built on it) could test guessed
-- values against. It now keeps the keyed hmac-sha256: fingerprint (the installation's fingerprint key,
-- as for secret versions). A row written before this migration keeps its old hash until the next write
-- of that file replaces it (the drift check still recognises it); the API never shows it.
-- Rebuilt rather than renamed: the old CHECK pinned the column to 64 characters.
CREATE TABLE env_file_state_new (
    environment     TEXT    PRIMARY KEY,
    path            TEXT    NOT NULL,
    mode            TEXT    NOT NULL,
    fingerprint     TEXT    NOT NULL CHECK ((fingerprint LIKE 'hmac-sha256:%' AND length(fingerprint) = 76)
                                            OR length(fingerprint) = 64),
    bytes           INTEGER NOT NULL,
    secret_versions TEXT    NOT NULL,
    written_at      INTEGER NOT NULL,
    drift           TEXT,
    drift_observed  TEXT,
    drift_since     INTEGER
);
-- The description of a drifted file ended in " sha256=<hex of the file on disk>": cut off. The next
-- scheduler run describes the file afresh and reports the ongoing drift once more.
INSERT INTO env_file_state_new (environment, path, mode, fingerprint, bytes, secret_versions, written_at, drift,
                                drift_observed, drift_since)
    SELECT environment, path, mode, sha256, bytes, secret_versions, written_at, drift,
           CASE WHEN instr(drift_observed, ' sha256=') > 0
                THEN substr(drift_observed, 1, instr(drift_observed, ' sha256=') - 1)
                ELSE drift_observed END,
           drift_since
    FROM env_file_state;
DROP TABLE env_file_state;
ALTER TABLE env_file_state_new RENAME TO env_file_state;
