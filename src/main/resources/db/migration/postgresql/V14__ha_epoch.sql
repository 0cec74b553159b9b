-- Active/standby on a shared store (ha/Leadership). One row, written by the first take-over (none before: a
-- store nobody took over is empty, as k8s-free-deploy/ltc-secrets-db's copy and emptiness checks expect): the
-- epoch the active instance took over with and the URL it is reached at (standbys name it in their 503 answers).
-- Taking over increments the epoch before the new active does anything else; every commit of the audit writer
-- first reads this row FOR SHARE and is refused unless the epoch is still its own (ha/EpochFence), so an old
-- active can never commit after a newer one took over.
CREATE TABLE ha_epoch (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    epoch    BIGINT  NOT NULL,
    holder   TEXT,
    instance TEXT,
    since    BIGINT
);
