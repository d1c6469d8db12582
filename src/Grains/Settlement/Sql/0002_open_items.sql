-- The payments and refunds no settlement includes yet, one row each: what the merchant is owed for it (negative
-- for a refund). A run asks which merchants have open items before its cut-off, and a merchant's claim reads and
-- deletes its own, so settling costs what is open, not the merchant's whole history of postings.
--
-- The ledger keeps the set itself: a statement-level trigger adds a row for every posting to a receivable account
-- by a payment or refund entry, in the statement that inserts the postings. A claim deletes the rows it takes in
-- the settlement grain's write, with the settlement_item rows that record them.
CREATE TABLE IF NOT EXISTS settlement_open_item (
    entry_id    text        PRIMARY KEY,
    merchant_id text        NOT NULL,
    net         bigint      NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS settlement_open_item_by_merchant ON settlement_open_item (merchant_id, created_at);
CREATE INDEX IF NOT EXISTS settlement_open_item_by_created ON settlement_open_item (created_at);

CREATE OR REPLACE FUNCTION settlement_open_items() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO settlement_open_item (entry_id, merchant_id, net, created_at)
    SELECT p.entry_id, substr(p.account, length('receivable:') + 1), -p.amount, e.created_at
    FROM new_postings p
    JOIN ledger_entry e ON e.entry_id = p.entry_id
    WHERE p.account LIKE 'receivable:%' AND e.kind IN ('payment', 'refund');
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER ledger_posting_settlement_open_items
    AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_open_items();

-- Payments and refunds posted before this migration, and not settled yet.
INSERT INTO settlement_open_item (entry_id, merchant_id, net, created_at)
SELECT p.entry_id, substr(p.account, length('receivable:') + 1), -p.amount, e.created_at
FROM ledger_posting p
JOIN ledger_entry e ON e.entry_id = p.entry_id
WHERE p.account LIKE 'receivable:%' AND e.kind IN ('payment', 'refund')
  AND NOT EXISTS (SELECT 1 FROM settlement_item i WHERE i.entry_id = p.entry_id)
ON CONFLICT (entry_id) DO NOTHING;
