-- The double-entry ledger. Every money movement is one journal entry whose postings sum to zero.
-- Sign convention: a posting's amount is a debit when positive and a credit when negative. So an
-- asset (corporate_cash) grows with debits, and a liability (wallet:{member}) grows with credits: a
-- wallet's balance is minus the sum of its postings.
--
-- Rows are written by the grains' journal writer in the same transaction as the grain state that
-- caused them, and never changed afterwards.

CREATE TABLE IF NOT EXISTS ledger_entry (
    entry_id        text        PRIMARY KEY,
    kind            text        NOT NULL,
    member_id       text,
    -- The Idempotency-Key of the request that caused the entry, unique per member.
    idempotency_key text,
    -- What the entry belongs to: a recharge, a firmbanking request, a payment.
    reference       text,
    created_at      timestamptz NOT NULL,
    UNIQUE (member_id, idempotency_key)
);

CREATE TABLE IF NOT EXISTS ledger_posting (
    posting_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id      text   NOT NULL REFERENCES ledger_entry (entry_id),
    account       text   NOT NULL,
    amount        bigint NOT NULL CHECK (amount <> 0),
    -- For wallet accounts: the wallet's balance after this posting, as the wallet grain computed it.
    balance_after bigint CHECK (balance_after IS NULL OR balance_after >= 0),
    UNIQUE (entry_id, account)
);

-- History pages walk one account newest first.
CREATE INDEX IF NOT EXISTS ledger_posting_by_account ON ledger_posting (account, posting_id DESC);

-- Every wallet's balance, moved by the same statement that posts to it: the CHECK is the database's
-- own guarantee that no wallet goes below zero, whatever the grains believe.
CREATE TABLE IF NOT EXISTS wallet_balance (
    member_id text   PRIMARY KEY,
    balance   bigint NOT NULL CHECK (balance >= 0)
);

-- An entry's postings arrive in one INSERT statement; after it, every entry it touched must sum to zero.
-- A statement-level trigger over the transition table checks the whole batch with one query.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced text;
BEGIN
    SELECT entry_id INTO unbalanced
    FROM new_postings
    GROUP BY entry_id
    HAVING sum(amount) <> 0
    LIMIT 1;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not sum to zero', unbalanced USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER ledger_posting_balanced
    AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_balanced();

-- The ledger is append-only: corrections are new entries, never edits.
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE TRIGGER ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE TRIGGER ledger_posting_append_only
    BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
