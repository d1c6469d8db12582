-- Deletes up to @batch_size operation keys recorded before @cutoff, oldest first (the index on recorded_at finds them),
-- in one short transaction: a prune never holds many row locks, nor one lock for long.
DELETE FROM silo_grain_operation
WHERE ctid IN (
    SELECT ctid
    FROM silo_grain_operation
    WHERE recorded_at < @cutoff
    ORDER BY recorded_at
    LIMIT @batch_size)
