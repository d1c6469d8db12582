-- How far each reader of the outbox (a stream provider's queue) has delivered, in commit order: the last
-- (tx, position) every consumer has been handed. A reader that starts again (a restart, the queue moved to another
-- node) goes on from here; events after it may be delivered again, and consumers apply each once by its sequence.
CREATE TABLE IF NOT EXISTS outbox_reader (
    reader     text        PRIMARY KEY,
    tx         xid8        NOT NULL,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
