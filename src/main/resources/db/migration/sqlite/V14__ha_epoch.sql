-- Active/standby is a PostgreSQL feature (ha/Leadership): on SQLite one instance is always active and this
-- table is never read or written (it stays empty, so a move to PostgreSQL copies nothing of it). It exists so
-- both stores have the same tables at the same schema version.
CREATE TABLE ha_epoch (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    epoch    INTEGER NOT NULL,
    holder   TEXT,
    instance TEXT,
    since    INTEGER
);
