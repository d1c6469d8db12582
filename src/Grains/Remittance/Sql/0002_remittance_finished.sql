-- When a remittance finished (completed, voided or failed), written with the remittance grain's final state write:
-- the ledger check counts the remittances still in flight from this table, a money table, instead of from storage
-- internals. Remittances finished before this column existed are those whose resume reminder is gone (read once,
-- here, by the migration).
ALTER TABLE remittance ADD COLUMN IF NOT EXISTS finished_at timestamptz;

DO $$
BEGIN
    IF to_regclass('orleans_reminder') IS NOT NULL THEN
        UPDATE remittance r SET finished_at = r.created_at
        WHERE r.finished_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM orleans_reminder o WHERE o.grain_id = 'remittance/' || r.remittance_id);
    END IF;
END
$$;

CREATE INDEX IF NOT EXISTS remittance_in_flight ON remittance (created_at) WHERE finished_at IS NULL;
