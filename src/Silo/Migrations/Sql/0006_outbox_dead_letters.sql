-- Events a consumer failed to apply after its retries, one row per consumer and event: the stream goes on past them,
-- and an operator replays them once the fault is fixed (replayed_at set when the consumer took it).
CREATE TABLE IF NOT EXISTS outbox_dead_letter (
    consumer    text        NOT NULL,
    event_id    text        NOT NULL,
    stream_key  text        NOT NULL,
    sequence    bigint      NOT NULL,
    type        text        NOT NULL,
    payload     jsonb       NOT NULL,
    occurred_at timestamptz NOT NULL,
    error       text        NOT NULL,
    attempts    integer     NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now(),
    replayed_at timestamptz,
    PRIMARY KEY (consumer, event_id)
);
