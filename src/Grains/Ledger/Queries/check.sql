-- The ledger's self-check, in one round trip:
--   1. every posting summed: must be 0;
--   2. entries whose postings do not sum to 0 (the insert trigger should make this impossible);
--   3. wallets whose balance disagrees between their postings and the wallet_balance table, and every wallet's
--      balance summed both ways;
--   4. corporate_cash's balance, and recharges, remittances and settlements still in flight (recharges whose row is
--      pending, remittances not yet finished, settlements being sent to a merchant), for the caller to compare with
--      the bank once nothing is in flight.
-- It reads the ledger and the money tables only, never storage internals (grain state, reminders).
WITH wallet_postings AS (
    SELECT substr(account, length('wallet:') + 1) AS member_id, -sum(amount) AS balance
    FROM ledger_posting
    WHERE account LIKE 'wallet:%'
    GROUP BY account
),
wallets AS (
    SELECT coalesce(p.member_id, b.member_id) AS member_id, coalesce(p.balance, 0) AS posted, coalesce(b.balance, 0) AS tabled
    FROM wallet_postings p
    FULL JOIN wallet_balance b ON b.member_id = p.member_id
)
SELECT
    (SELECT coalesce(sum(amount), 0) FROM ledger_posting) AS total,
    (SELECT count(*) FROM ledger_entry) AS entries,
    (SELECT coalesce(array_agg(entry_id), '{}') FROM (SELECT entry_id FROM ledger_posting GROUP BY entry_id HAVING sum(amount) <> 0 LIMIT 100) u) AS unbalanced,
    (SELECT coalesce(json_agg(w), '[]') FROM (SELECT * FROM wallets WHERE posted <> tabled LIMIT 100) w) AS wallet_mismatches,
    (SELECT count(*) FROM wallets) AS wallets,
    (SELECT coalesce(sum(posted), 0) FROM wallets) AS wallets_posted,
    (SELECT coalesce(sum(tabled), 0) FROM wallets) AS wallets_tabled,
    (SELECT coalesce(sum(amount), 0) FROM ledger_posting WHERE account = 'corporate_cash') AS corporate_cash,
    (SELECT count(*) FROM recharge WHERE status = 'pending') AS recharges_in_flight,
    (SELECT count(*) FROM remittance WHERE finished_at IS NULL) AS remittances_in_flight,
    (SELECT count(*) FROM settlement WHERE status = 'sending') AS settlements_in_flight
