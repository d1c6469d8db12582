-- The bank's books: every account, every transfer it applied or refused, and how many of each it holds.
-- A transfer is one transaction: its accounts are locked (in key order, so two transfers never wait on each
-- other in a cycle), its request id is recorded under the primary key, its balances are written, and the
-- count goes up; a restart finds exactly what was answered.

CREATE TABLE IF NOT EXISTS bank_account (
    bank_code      text   NOT NULL,
    account_number text   NOT NULL,
    holder_name    text   NOT NULL,
    status         text   NOT NULL CHECK (status IN ('open', 'closed')),
    -- 0 to 10^15 won: no balance below zero, and no sum of two balances overflows a bigint.
    balance_won    bigint NOT NULL CHECK (balance_won BETWEEN 0 AND 1000000000000000),
    PRIMARY KEY (bank_code, account_number)
);

-- The request id is the transfer: the primary key is what applies one id at most once, even between two
-- copies of a request whose accounts do not exist (and so lock nothing).
CREATE TABLE IF NOT EXISTS bank_transfer (
    request_id          text        PRIMARY KEY,
    -- Insertion order, to list a statement in the order the bank applied its lines.
    position            bigint      GENERATED ALWAYS AS IDENTITY,
    from_bank_code      text        NOT NULL,
    from_account_number text        NOT NULL,
    to_bank_code        text        NOT NULL,
    to_account_number   text        NOT NULL,
    amount_won          bigint      NOT NULL CHECK (amount_won BETWEEN 1 AND 1000000000000000),
    status              text        NOT NULL CHECK (status IN ('succeeded', 'failed')),
    reason              text        NULL CHECK ((status = 'failed') = (reason IS NOT NULL)),
    completed_at        timestamptz NOT NULL,
    fee_won             bigint      NOT NULL CHECK (fee_won >= 0)
);

-- Bank:AccountsMax and Bank:TransfersMax are checked against these counts in the transaction that adds a row,
-- so the bound is exact under concurrency (count(*) would be neither cheap nor race-free).
CREATE TABLE IF NOT EXISTS bank_ledger_size (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    accounts  bigint  NOT NULL CHECK (accounts >= 0),
    transfers bigint  NOT NULL CHECK (transfers >= 0)
);

INSERT INTO bank_ledger_size (accounts, transfers) VALUES (0, 0) ON CONFLICT DO NOTHING;
