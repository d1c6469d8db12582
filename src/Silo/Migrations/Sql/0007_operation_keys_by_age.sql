-- Operation keys are kept for a retention (OperationKeyOptions.Retention) and pruned oldest first in bounded batches:
-- this index lets a prune find the oldest keys without reading the table. recorded_at only grows, so the index is
-- appended at its right edge by the writes that record keys.
CREATE INDEX IF NOT EXISTS silo_grain_operation_by_age ON silo_grain_operation (recorded_at);
