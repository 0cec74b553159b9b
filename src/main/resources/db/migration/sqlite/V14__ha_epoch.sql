-- Active/standby is a PostgreSQL feature (ha/Leadership): on SQLite one instance is always active and this row
-- is never read or written (it stays empty, so a move to PostgreSQL copies nothing of it). The table exists so both stores have the same schema at the same version.
CREATE TABLE ha_epoch (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    epoch    INTEGER NOT NULL,
    holder   TEXT,
    instance TEXT,
    since    INTEGER
);
