-- The outbox: every domain event, written by the grain whose change it tells of, in the transaction that commits
-- that change (a record of the grain's write), so an event exists if and only if its change committed.
--
-- event_id is stable (derived from the operation: a retried write cannot add a second copy); stream_key and
-- sequence are the producing grain's stream and its count of events, kept in the grain's state and so checked with
-- its version. Readers go in commit order, not id order: tx is the writing transaction's id, and a reader takes
-- only events of transactions older than every one still running (pg_snapshot_xmin), ordered by (tx, position),
-- so an event whose transaction commits after a later one's is never skipped.
CREATE TABLE IF NOT EXISTS outbox_event (
    position    bigint      GENERATED ALWAYS AS IDENTITY,
    tx          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id    text        PRIMARY KEY,
    stream_key  text        NOT NULL,
    sequence    bigint      NOT NULL CHECK (sequence > 0),
    type        text        NOT NULL,
    payload     jsonb       NOT NULL,
    occurred_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS outbox_event_in_commit_order ON outbox_event (tx, position);
