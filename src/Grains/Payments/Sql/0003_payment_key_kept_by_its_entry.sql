-- One payment per payer and Idempotency-Key is kept by the payment's journal entry: a payment row is written only
-- with its entry, in the same transaction, and the entry carries the same member and key under ledger_entry's own
-- unique constraint. The payment's copy of that index cost every payment one more index insert and guarded nothing
-- the entry's does not.
ALTER TABLE payment DROP CONSTRAINT IF EXISTS payment_payer_id_idempotency_key_key;
