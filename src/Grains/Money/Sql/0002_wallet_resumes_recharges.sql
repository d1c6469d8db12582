-- Recharges are resumed by their wallet's reminder (grain id 'wallet/{member}'), armed before a reservation and kept
-- while recharges keep coming; the reminder each recharge had ('recharge/{id}') names a grain type that is gone. A
-- wallet that activates with recharges pending arms its own; upgrade with none in flight (the ledger check counts them).
-- On a fresh database this runs before the reminder table exists, and has nothing to remove.
DO $$
BEGIN
  IF to_regclass('orleans_reminder') IS NOT NULL THEN
    DELETE FROM orleans_reminder WHERE grain_id LIKE 'recharge/%';
  END IF;
END
$$;
