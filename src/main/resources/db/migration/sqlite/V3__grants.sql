-- Access grants: a principal may use an environment-scoped permission on one environment until
-- expires_at, unless revoked. Rows are never deleted: the access review reads the history.
CREATE TABLE access_grant (
    id            TEXT    PRIMARY KEY CHECK (length(id) = 16),
    principal_id  INTEGER NOT NULL REFERENCES principal (id),
    environment   TEXT    NOT NULL,
    permission    TEXT    NOT NULL CHECK (permission IN ('secret:rotate', 'env-file:read', 'env-file:write')),
    granted_by    TEXT    NOT NULL,
    granted_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL CHECK (expires_at > granted_at),
    reason        TEXT    NOT NULL,
    revoked_at    INTEGER,
    revoked_by    TEXT,
    revoke_reason TEXT,
    -- Updated in the same transaction as the audit event of each successful use.
    last_used_at  INTEGER,
    use_count     INTEGER NOT NULL DEFAULT 0
);
-- The lookup made on every environment-scoped request.
CREATE INDEX access_grant_lookup ON access_grant (principal_id, environment, permission, expires_at);
CREATE INDEX access_grant_environment ON access_grant (environment, granted_at);
