-- A request's index row now follows its state: what it moves and for what, and whether the bank's answer is
-- still awaited (status 'sent' or 'unknown') or final ('succeeded', 'failed'), so bank commands still
-- unresolved can be listed (reconciliation) without reading grain state.
ALTER TABLE firmbanking_request
    ADD COLUMN IF NOT EXISTS purpose      text,
    ADD COLUMN IF NOT EXISTS amount       bigint,
    ADD COLUMN IF NOT EXISTS status       text,
    ADD COLUMN IF NOT EXISTS completed_at timestamptz;

-- Rows written before: filled in once from the grains' stored state (JSON; the status as its enum's number). A
-- database without the state table yet (migrations of a fresh one may come in any order) has no such rows.
DO $$
BEGIN
    IF to_regclass('silo_grain_state') IS NOT NULL THEN
        UPDATE firmbanking_request f
        SET purpose = s.record -> 'command' ->> 'purpose',
            amount = (s.record -> 'command' ->> 'amountWon')::bigint,
            status = CASE s.record ->> 'status' WHEN '2' THEN 'succeeded' WHEN '3' THEN 'failed' WHEN '4' THEN 'unknown' ELSE 'sent' END,
            completed_at = (s.record ->> 'completedAt')::timestamptz
        FROM (SELECT grain_key, convert_from(payload, 'UTF8')::jsonb -> 'record' AS record FROM silo_grain_state WHERE grain_type = 'firmbanking') s
        WHERE s.grain_key = f.request_id AND f.status IS NULL;
    END IF;
END
$$;

CREATE INDEX IF NOT EXISTS firmbanking_request_unresolved ON firmbanking_request (created_at) WHERE status IN ('sent', 'unknown');
