-- The due state the scheduler last recorded for a secret's CURRENT version, so that each change of
-- state is audited and alerted once, not on every run, and not again after a restart. No row means
-- OK: a fresh secret is recorded only when it first stops being OK.
CREATE TABLE secret_due_state (
    environment TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('OK', 'DUE_SOON', 'OVERDUE')),
    since       INTEGER NOT NULL,
    PRIMARY KEY (environment, secret)
);

-- Drift: the env file on disk is not what this service last wrote. Set when detected (audited and
-- alerted once per distinct difference), cleared when the file is right again.
ALTER TABLE env_file_state ADD COLUMN drift TEXT;
ALTER TABLE env_file_state ADD COLUMN drift_observed TEXT;
ALTER TABLE env_file_state ADD COLUMN drift_since INTEGER;

-- When the scheduler recorded a grant's or token's expiry (grant.expire / token.expire), once each.
ALTER TABLE access_grant ADD COLUMN expiry_recorded_at INTEGER;
ALTER TABLE api_token ADD COLUMN expiry_recorded_at INTEGER;
CREATE INDEX access_grant_unrecorded_expiry ON access_grant (expires_at) WHERE expiry_recorded_at IS NULL AND revoked_at IS NULL;
CREATE INDEX api_token_unrecorded_expiry ON api_token (expires_at) WHERE expiry_recorded_at IS NULL AND revoked_at IS NULL;
