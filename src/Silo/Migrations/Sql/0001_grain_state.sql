-- Grain state: one row per grain, written only conditionally on its version (optimistic concurrency).
-- A write is `UPDATE ... WHERE version = @expected`; a first write is an INSERT that loses to any row
-- already there. Either way a stale writer changes nothing and is told so.
CREATE TABLE IF NOT EXISTS silo_grain_state (
    grain_type text   NOT NULL,
    grain_key  text   NOT NULL,
    version    bigint NOT NULL CHECK (version > 0),
    -- UTF-8 JSON kept as bytes: PostgreSQL stores it without parsing; read it with convert_from(payload, 'UTF8').
    payload    bytea  NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grain_type, grain_key)
);

-- Operation keys (idempotency keys) recorded in the same transaction as the state change they caused.
-- The primary key is what makes a command run at most once: uniqueness is enforced here, not by a
-- check-then-insert in code.
CREATE TABLE IF NOT EXISTS silo_grain_operation (
    grain_type   text  NOT NULL,
    grain_key    text  NOT NULL,
    operation_id text  NOT NULL CHECK (length(operation_id) BETWEEN 1 AND 255),
    request_hash text  NOT NULL,
    result       bytea NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grain_type, grain_key, operation_id)
);
