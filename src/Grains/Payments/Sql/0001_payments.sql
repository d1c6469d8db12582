-- Payments at merchants, one row per payment, written by the payer's wallet grain in the same
-- transaction as the debit and its journal entry. The commission rate in force is recorded on the
-- payment; refunds add to refunded and never take it past amount.
CREATE TABLE IF NOT EXISTS payment (
    payment_id      text        PRIMARY KEY,
    payer_id        text        NOT NULL,
    merchant_id     text        NOT NULL CHECK (merchant_id <> payer_id),
    amount          bigint      NOT NULL CHECK (amount > 0),
    commission_bps  bigint      NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
    commission      bigint      NOT NULL CHECK (commission BETWEEN 0 AND amount),
    order_id        text,
    idempotency_key text        NOT NULL,
    created_at      timestamptz NOT NULL,
    UNIQUE (payer_id, idempotency_key)
);

CREATE INDEX IF NOT EXISTS payment_by_merchant ON payment (merchant_id, created_at);
