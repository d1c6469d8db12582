-- A bank command run for a caller that writes its steps (a recharge's, ExecuteRecorded) is kept by that caller alone: the
-- wallet's reservation inserts its row as sent, and the wallet's credit or release writes the bank's answer into it, with
-- the ledger entries, so the firmbanking grain writes no state of its own for it. The row therefore holds the whole
-- record but its history: the accounts the money moves between, the bank's fee and a failure's reason. Rows written
-- before have their record in the grain's state, which is read first; they keep these columns empty.
ALTER TABLE firmbanking_request
    ADD COLUMN IF NOT EXISTS from_bank_code      text,
    ADD COLUMN IF NOT EXISTS from_account_number text,
    ADD COLUMN IF NOT EXISTS to_bank_code        text,
    ADD COLUMN IF NOT EXISTS to_account_number   text,
    ADD COLUMN IF NOT EXISTS fee                 bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS failure_reason      text;
