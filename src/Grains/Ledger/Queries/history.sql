-- One page of an account's postings, newest first. Keyset paging on posting_id: a wallet's postings
-- are written by one wallet grain, one batch at a time, so their ids rise in commit order.
SELECT p.posting_id, e.entry_id, e.kind, p.amount, p.balance_after, e.created_at, e.reference, e.idempotency_key
FROM ledger_posting p
JOIN ledger_entry e ON e.entry_id = p.entry_id
WHERE p.account = @account AND p.posting_id < @before
ORDER BY p.posting_id DESC
LIMIT @limit
