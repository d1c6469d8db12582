-- Merchant settlement (정산). One row per merchant and period, written by the merchant's settlement grain with
-- its state: claimed (the net of the payments and refunds it includes), then sent to the merchant's bank account,
-- then paid (posted receivable → corporate_cash). A period whose payments and refunds net to nothing or less is
-- recorded as carried: its payments and refunds stay unclaimed and net against the next period's.
CREATE TABLE IF NOT EXISTS settlement (
    settlement_id          text        PRIMARY KEY,
    merchant_id            text        NOT NULL,
    period                 text        NOT NULL,
    cutoff                 timestamptz NOT NULL,
    net                    bigint      NOT NULL,
    items                  integer     NOT NULL CHECK (items >= 0),
    status                 text        NOT NULL CHECK (status IN ('pending', 'sending', 'paid', 'carried')),
    to_bank_code           text,
    to_account_number      text,
    firmbanking_request_id text,
    bank_fee               bigint      NOT NULL DEFAULT 0,
    failure_reason         text,
    created_at             timestamptz NOT NULL,
    paid_at                timestamptz,
    -- One settlement per merchant per period, whatever fires twice.
    UNIQUE (merchant_id, period),
    CHECK (status = 'carried' OR net > 0)
);

CREATE INDEX IF NOT EXISTS settlement_by_merchant ON settlement (merchant_id, created_at DESC);
CREATE INDEX IF NOT EXISTS settlement_by_created ON settlement (created_at DESC);

-- Which settlement included each payment and refund (by its journal entry). An entry is settled once, ever: the
-- primary key. No foreign keys: a claim writes one row per payment (hundreds of thousands for a big merchant's
-- day) from entries the ledger posted and a settlement row of the same write, and a per-row check of either cost
-- more than the claim's other work together (measured under pay-while-settling).
CREATE TABLE IF NOT EXISTS settlement_item (
    entry_id      text PRIMARY KEY,
    settlement_id text NOT NULL
);

CREATE INDEX IF NOT EXISTS settlement_item_by_settlement ON settlement_item (settlement_id);
