-- Every change of a commission rate: a merchant's own (merchant_id set) or the default (merchant_id NULL).
-- A row is written by the grain that holds the rate (the merchant's member grain, or the commission grain)
-- in the transaction of the state change, and only when the rate changes, so the table is exactly the
-- history of what payments were charged. Rows are never updated or deleted.
--
-- For a merchant, old_bps NULL means it was on the default rate, new_bps NULL that it went back to it.
-- The default rate is always a number (the built-in 250 bps before any operator set one), so both are
-- NOT NULL on default rows. changed_at comes from the caller's clock: the order of one grain's rows is
-- also the order of change_id, which the database assigns as the writes commit one after another.
CREATE TABLE IF NOT EXISTS commission_change (
    change_id   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id text,
    old_bps     bigint      CHECK (old_bps BETWEEN 0 AND 10000),
    new_bps     bigint      CHECK (new_bps BETWEEN 0 AND 10000),
    changed_by  text        NOT NULL CHECK (char_length(changed_by) BETWEEN 1 AND 200),
    changed_at  timestamptz NOT NULL,
    CHECK (old_bps IS DISTINCT FROM new_bps),
    CHECK (merchant_id IS NOT NULL OR (old_bps IS NOT NULL AND new_bps IS NOT NULL))
);

-- One index serves both scopes: a btree keeps NULL keys, so "merchant_id IS NULL" (the default's rows)
-- is a range of it like any merchant's.
CREATE INDEX IF NOT EXISTS commission_change_by_merchant ON commission_change (merchant_id, changed_at DESC, change_id DESC);
