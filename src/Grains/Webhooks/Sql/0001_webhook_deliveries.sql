-- Merchant webhooks: the events each merchant with a webhook is to receive, in the order they reached its webhook
-- grain (position), each once (event_id: a redelivered event is not queued again), and when it was delivered.
CREATE TABLE IF NOT EXISTS webhook_delivery (
    position     bigint      GENERATED ALWAYS AS IDENTITY,
    event_id     text        PRIMARY KEY,
    merchant_id  text        NOT NULL,
    type         text        NOT NULL,
    payload      jsonb       NOT NULL,
    occurred_at  timestamptz NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    delivered_at timestamptz
);

-- A merchant's undelivered events, oldest first: what its webhook grain sends next.
CREATE INDEX IF NOT EXISTS webhook_delivery_pending ON webhook_delivery (merchant_id, position) WHERE delivered_at IS NULL;
