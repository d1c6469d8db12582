-- The payments and refunds no settlement includes yet, one row each: what the merchant is owed for it (negative
-- for a refund). A run asks which merchants have open items before its cut-off, and a merchant's claim reads and
-- deletes its own, so settling costs what is open, not the merchant's whole history of postings.
--
-- The ledger keeps the set itself: a statement-level trigger adds a row for every posting to a receivable account
-- by a payment or refund entry, in the statement that inserts the postings. A claim deletes the rows it takes in
-- the settlement grain's write, with the settlement_item rows that record them.
CREATE TABLE IF NOT EXISTS settlement_open_item (
    entry_id    text        NOT NULL,
    merchant_id text        NOT NULL,
    net         bigint      NOT NULL,
    posted_at   timestamptz NOT NULL
);

-- The one index, as every payment pays for it: a merchant's open items by time (a claim reads and deletes these;
-- a run's scan for merchants with any is over what is open, which a settled ledger keeps small). An entry is in
-- the table at most once because the ledger posts it once.
CREATE INDEX IF NOT EXISTS settlement_open_item_by_merchant ON settlement_open_item (merchant_id, posted_at);

CREATE OR REPLACE FUNCTION settlement_open_items() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Payments' and refunds' entries are named after them (payment:..., refund:...); a settlement's own posting to
    -- the receivable is not an open item. Posted at the transaction's time: an item committed after a claim read
    -- its period is open still, and counts in the next period.
    INSERT INTO settlement_open_item (entry_id, merchant_id, net, posted_at)
    SELECT p.entry_id, substr(p.account, length('receivable:') + 1), -p.amount, now()
    FROM new_postings p
    WHERE p.account LIKE 'receivable:%' AND (p.entry_id LIKE 'payment:%' OR p.entry_id LIKE 'refund:%');
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER ledger_posting_settlement_open_items
    AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_open_items();

-- Payments and refunds posted before this migration, and not settled yet.
INSERT INTO settlement_open_item (entry_id, merchant_id, net, posted_at)
SELECT p.entry_id, substr(p.account, length('receivable:') + 1), -p.amount, e.created_at
FROM ledger_posting p
JOIN ledger_entry e ON e.entry_id = p.entry_id
WHERE p.account LIKE 'receivable:%' AND e.kind IN ('payment', 'refund')
  AND NOT EXISTS (SELECT 1 FROM settlement_item i WHERE i.entry_id = p.entry_id)
  AND NOT EXISTS (SELECT 1 FROM settlement_open_item o WHERE o.entry_id = p.entry_id);
