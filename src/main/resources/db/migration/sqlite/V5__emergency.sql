-- The secrets an EMERGENCY rotation covered (its rotation row has secret NULL), for its record.
CREATE TABLE emergency_secret (
    rotation_id  TEXT    NOT NULL REFERENCES rotation (id),
    secret       TEXT    NOT NULL,
    from_version INTEGER,
    to_version   INTEGER NOT NULL,
    PRIMARY KEY (rotation_id, secret)
);
-- At most one emergency per environment at a time (secret is NULL, so the general index cannot say it).
CREATE UNIQUE INDEX rotation_one_active_emergency ON rotation (environment)
    WHERE kind = 'EMERGENCY' AND status IN ('PENDING', 'RUNNING');
