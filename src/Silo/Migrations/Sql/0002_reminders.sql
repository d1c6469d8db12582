-- Durable reminders: one row per (grain, name). A node claims due rows with FOR UPDATE SKIP LOCKED and
-- a lease, so one node fires each tick; a node that dies mid-tick loses its lease when lease_until passes,
-- and another node fires the tick again. Handlers are therefore idempotent.
CREATE TABLE IF NOT EXISTS silo_reminder (
    grain_type  text        NOT NULL,
    grain_key   text        NOT NULL,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    due_at      timestamptz NOT NULL,
    -- Null for a one-shot reminder, deleted after it fires; otherwise milliseconds between ticks.
    period_ms   bigint      CHECK (period_ms IS NULL OR period_ms > 0),
    lease_owner text,
    lease_until timestamptz,
    PRIMARY KEY (grain_type, grain_key, name)
);

CREATE INDEX IF NOT EXISTS silo_reminder_due ON silo_reminder (due_at);
