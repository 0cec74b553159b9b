-- Principals and API tokens. Times are epoch milliseconds (Hibernate's Instant mapping on SQLite).
CREATE TABLE principal (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL UNIQUE,
    role            TEXT    NOT NULL CHECK (role IN ('admin', 'security-engineer', 'deployer', 'auditor')),
    created_at      INTEGER NOT NULL,
    created_by      TEXT    NOT NULL,
    disabled_at     INTEGER,
    disabled_by     TEXT,
    disabled_reason TEXT
);

-- Only the SHA-256 of a token is kept; the token itself is shown once, at creation.
CREATE TABLE api_token (
    id           TEXT    PRIMARY KEY,
    principal_id INTEGER NOT NULL REFERENCES principal (id),
    token_hash   BLOB    NOT NULL CHECK (length(token_hash) = 32),
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    revoked_by   TEXT
);
CREATE INDEX api_token_principal ON api_token (principal_id);
