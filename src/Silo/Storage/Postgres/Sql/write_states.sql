-- Group commit: the conditional writes of many grains in one statement, hence one transaction and
-- one round trip. Each item is checked on its own, so one stale item does not fail its batch-mates.
--
-- Per item, in order:
--   1. fresh:    an item with an operation key already recorded for its grain is a duplicate and
--                writes nothing (the caller looks the first result up instead). Each key is one probe
--                of the primary key on all three columns, as a scalar subquery: that form is evaluated
--                row by row whatever the statistics say. A join here once let the planner match only
--                (grain_type, grain_key) and filter, reading a grain's whole history per key; an EXISTS
--                let a prepared statement's generic plan, made while the table was young and small,
--                hash the whole table on every execution until the next ANALYZE.
--   2. updated:  an existing grain is written only if its stored version is the one the writer read.
--                Under READ COMMITTED a concurrent writer of the same row waits for the row lock, then
--                re-checks `version = expected` against the committed row, so exactly one of two
--                stale writers wins.
--   3. inserted: a grain's first write (expected version 0) loses to any row already there.
--   4. recorded: the operation keys of the items that were written. The primary key enforces
--                uniqueness; the `fresh` check only keeps the normal path from tripping it. A
--                violation (a race the row lock did not order) aborts the whole statement, and the
--                committer retries the batch.
--   5. all written: asked for all or nothing (all_or_nothing) the statement fails as a whole (SQLSTATE MPW01, silo_all_written) unless
--                every item was written, for a batch whose records follow in the same round trip.
-- Items must have distinct grains within one batch; the committer guarantees it.
WITH input AS (
    SELECT *
    FROM unnest(@items::int[], @grain_types::text[], @grain_keys::text[], @expected_versions::bigint[], @payloads::bytea[])
        AS i(item, grain_type, grain_key, expected_version, payload)
),
operations AS (
    SELECT *
    FROM unnest(@operation_items::int[], @operation_ids::text[], @request_hashes::text[], @results::bytea[])
        AS o(item, operation_id, request_hash, result)
),
fresh AS (
    SELECT i.*
    FROM input i
    WHERE NOT EXISTS (
        SELECT 1
        FROM operations o
        WHERE o.item = i.item
          AND (SELECT true
               FROM silo_grain_operation recorded
               WHERE recorded.grain_type = i.grain_type
                 AND recorded.grain_key = i.grain_key
                 AND recorded.operation_id = o.operation_id))
),
updated AS (
    UPDATE silo_grain_state s
    SET version = s.version + 1, payload = f.payload, written_at = now()
    FROM fresh f
    WHERE f.expected_version > 0
      AND s.grain_type = f.grain_type
      AND s.grain_key = f.grain_key
      AND s.version = f.expected_version
    RETURNING f.item, s.version
),
inserted AS (
    INSERT INTO silo_grain_state (grain_type, grain_key, version, payload)
    SELECT grain_type, grain_key, 1, payload
    FROM fresh
    WHERE expected_version = 0
    ON CONFLICT (grain_type, grain_key) DO NOTHING
    RETURNING grain_type, grain_key, version
),
written AS (
    SELECT item, version FROM updated
    UNION ALL
    SELECT f.item, n.version FROM inserted n JOIN fresh f USING (grain_type, grain_key)
),
recorded AS (
    INSERT INTO silo_grain_operation (grain_type, grain_key, operation_id, request_hash, result)
    SELECT i.grain_type, i.grain_key, o.operation_id, o.request_hash, o.result
    FROM operations o
    JOIN written w ON w.item = o.item
    JOIN input i ON i.item = o.item
    RETURNING 1
)
SELECT i.item, coalesce(w.version, 0) AS version, f.item IS NULL AS duplicate
FROM input i
LEFT JOIN written w ON w.item = i.item
LEFT JOIN fresh f ON f.item = i.item
WHERE silo_all_written(@all_or_nothing, (SELECT count(*) FROM written), cardinality(@items::int[]))
