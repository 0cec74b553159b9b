-- /health proves the database takes writes by committing one here: "select 1" answered while the
-- disk refused every write (read-only remount, immutable file), and a service that cannot write its
-- audit trail serves nothing. One row, overwritten; nothing else reads it.
CREATE TABLE health_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    written_at INTEGER NOT NULL
);
