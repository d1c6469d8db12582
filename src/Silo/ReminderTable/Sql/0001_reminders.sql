-- Orleans' ADO.NET reminder table (Microsoft.Orleans.Reminders.AdoNet) on MyPay's schema. (The old host's
-- silo_reminder table was a different thing; silo/0003 drops it.)
--
-- The provider reads its statements from OrleansQuery at start-up (see the clustering migration, which creates
-- the same table); it is created here too so that reminders can be migrated without clustering.
CREATE TABLE IF NOT EXISTS OrleansQuery (
    QueryKey  varchar(64) PRIMARY KEY,
    QueryText text        NOT NULL
);

-- One row per (grain, reminder name) of a service. Each silo owns ranges of the grain-hash ring and reads the
-- reminders of its ranges, so grain_hash is indexed with the service. The hash is Orleans' unsigned 32-bit
-- uniform hash stored as a signed integer (the provider casts it); the range queries below account for that.
-- version is the row's etag: the provider parses it as a 32-bit number.
CREATE TABLE IF NOT EXISTS orleans_reminder (
    service_id    text        NOT NULL,
    grain_id      text        NOT NULL,
    reminder_name text        NOT NULL CHECK (length(reminder_name) BETWEEN 1 AND 150),
    start_time    timestamptz NOT NULL,
    period_ms     bigint      NOT NULL CHECK (period_ms >= 0),
    grain_hash    integer     NOT NULL,
    version       integer     NOT NULL CHECK (version >= 0),
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

CREATE INDEX IF NOT EXISTS orleans_reminder_service_hash ON orleans_reminder (service_id, grain_hash);

-- The provider's named queries. Rows answer GrainId, ReminderName, StartTime, Period (milliseconds, read as a
-- 64-bit number) and Version; result columns are quoted so that they carry exactly the names the provider reads.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- A grain's reminders.
('ReadReminderRowsKey', $$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period", version AS "Version"
FROM orleans_reminder
WHERE service_id = @ServiceId
  AND grain_id = @GrainId
$$),

-- One reminder of a grain; no row when it does not exist.
('ReadReminderRowKey', $$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period", version AS "Version"
FROM orleans_reminder
WHERE service_id = @ServiceId
  AND grain_id = @GrainId
  AND reminder_name = @ReminderName
$$),

-- The reminders of one range of the hash ring, (@BeginHash, @EndHash]: begin excluded, end included. The
-- provider picks this statement when begin < end compared as signed integers, which is exactly when the range
-- does not wrap once the unsigned ring is cast to signed (the cast moves the wrap point from 2^32 to 2^31, and
-- the provider chooses the statement after the cast).
('ReadRangeRows1Key', $$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period", version AS "Version"
FROM orleans_reminder
WHERE service_id = @ServiceId
  AND grain_hash > @BeginHash
  AND grain_hash <= @EndHash
$$),

-- The same range when it wraps in signed order (begin >= end): everything after begin or up to end. When begin
-- equals end the range is the whole ring (a single silo owns everything), and this reads every row.
('ReadRangeRows2Key', $$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period", version AS "Version"
FROM orleans_reminder
WHERE service_id = @ServiceId
  AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
$$),

-- Registers a reminder or changes it, and answers its new version (etag). One statement, so two concurrent
-- registrations of the same reminder cannot both insert: the loser of the primary key becomes an update of the
-- winner's row, and each answers the version it wrote. Registration is unconditional, as Orleans expects.
('UpsertReminderRowKey', $$
INSERT INTO orleans_reminder (service_id, grain_id, reminder_name, start_time, period_ms, grain_hash, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
SET start_time = excluded.start_time,
    period_ms  = excluded.period_ms,
    grain_hash = excluded.grain_hash,
    version    = orleans_reminder.version + 1
RETURNING version AS "Version"
$$),

-- Unregisters a reminder only if it is still the version the caller holds, so an unregister racing a
-- re-registration does not delete the newer one. Must answer one boolean row either way.
('DeleteReminderRowKey', $$
WITH deleted AS (
    DELETE FROM orleans_reminder
    WHERE service_id = @ServiceId
      AND grain_id = @GrainId
      AND reminder_name = @ReminderName
      AND version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM deleted)
$$),

-- Forgets every reminder of a service (tests).
('DeleteReminderRowsKey', $$
DELETE FROM orleans_reminder
WHERE service_id = @ServiceId
$$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
