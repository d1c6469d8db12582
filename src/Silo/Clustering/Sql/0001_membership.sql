-- Orleans' ADO.NET clustering (Microsoft.Orleans.Clustering.AdoNet) on MyPay's schema. The provider ships no
-- SQL: at start-up it reads `SELECT QueryKey, QueryText FROM OrleansQuery` and refuses to start unless every
-- key it knows is there. The names in that statement are unquoted, so PostgreSQL folds them to lower case and
-- the table below must be created unquoted too.
CREATE TABLE IF NOT EXISTS OrleansQuery (
    QueryKey  varchar(64) PRIMARY KEY,
    QueryText text        NOT NULL
);

-- One row per cluster (Orleans calls the cluster id DeploymentId). Its version is the membership table's
-- optimistic-concurrency token: every change to a silo's row checks the version the silo read and adds 1 in
-- the same statement, so of two silos that read the same table and both try to change it, one wins and the
-- other re-reads. It is an integer because the provider parses it as a 32-bit number.
CREATE TABLE IF NOT EXISTS orleans_membership_version (
    deployment_id text        PRIMARY KEY,
    version       integer     NOT NULL DEFAULT 0 CHECK (version >= 0),
    changed_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per silo incarnation: a silo restarted on the same address and port is a new generation, hence a
-- new row. Status is Orleans' SiloStatus (3 Active, 6 Dead); suspect_times is the provider's own encoding of
-- who suspects this silo and since when ("address,time|address,time"), stored as given.
CREATE TABLE IF NOT EXISTS orleans_membership (
    deployment_id   text        NOT NULL REFERENCES orleans_membership_version (deployment_id) ON DELETE CASCADE,
    address         varchar(45) NOT NULL,
    port            integer     NOT NULL,
    generation      integer     NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    status          integer     NOT NULL,
    proxy_port      integer     NOT NULL,
    suspect_times   text,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- The provider's named queries. Parameters are the provider's (@DeploymentId, @Address, ...); result columns
-- are quoted so that they carry exactly the names the provider reads. Timestamps arrive as UTC DateTimes,
-- which Npgsql sends as timestamptz.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Creates the cluster's version row on first start. Must answer one boolean row whether or not it inserted:
-- a row already there (another silo was first) is not an error.
('InsertMembershipVersionKey', $$
WITH inserted AS (
    INSERT INTO orleans_membership_version (deployment_id)
    VALUES (@DeploymentId)
    ON CONFLICT (deployment_id) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted)
$$),

-- The whole table with its version, as one snapshot: one statement under READ COMMITTED sees one snapshot,
-- so the version returned is the version of exactly these rows. The version row is the left side of the
-- join, so a cluster with no silo yet still answers one row (with null silo columns) carrying the version.
('MembershipReadAllKey', $$
SELECT v.version         AS "Version",
       m.address         AS "Address",
       m.port            AS "Port",
       m.generation      AS "Generation",
       m.silo_name       AS "SiloName",
       m.host_name       AS "HostName",
       m.status          AS "Status",
       m.proxy_port      AS "ProxyPort",
       m.suspect_times   AS "SuspectTimes",
       m.start_time      AS "StartTime",
       m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
WHERE v.deployment_id = @DeploymentId
$$),

-- One silo's row with the table version, read the same way as the whole table.
('MembershipReadRowKey', $$
SELECT v.version         AS "Version",
       m.address         AS "Address",
       m.port            AS "Port",
       m.generation      AS "Generation",
       m.silo_name       AS "SiloName",
       m.host_name       AS "HostName",
       m.status          AS "Status",
       m.proxy_port      AS "ProxyPort",
       m.suspect_times   AS "SuspectTimes",
       m.start_time      AS "StartTime",
       m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m
       ON m.deployment_id = v.deployment_id
      AND m.address = @Address
      AND m.port = @Port
      AND m.generation = @Generation
WHERE v.deployment_id = @DeploymentId
$$),

-- A silo joins. The version row is locked only if it still holds the version the silo read (@Version); a
-- concurrent change waits on that row lock and, under READ COMMITTED, re-checks the version against the
-- committed row, so of two writers that read the same version exactly one goes on. The version is raised only
-- when the row was really inserted (an existing row for the same silo inserts nothing), so a refused insert
-- changes nothing and answers false.
('InsertMembershipKey', $$
WITH expected AS (
    SELECT deployment_id
    FROM orleans_membership_version
    WHERE deployment_id = @DeploymentId
      AND version = @Version
    FOR UPDATE
),
inserted AS (
    INSERT INTO orleans_membership (
        deployment_id, address, port, generation, silo_name, host_name, status, proxy_port, start_time, i_am_alive_time)
    SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM expected
    ON CONFLICT (deployment_id, address, port, generation) DO NOTHING
    RETURNING deployment_id
),
raised AS (
    UPDATE orleans_membership_version v
    SET version = v.version + 1, changed_at = now()
    FROM inserted i
    WHERE v.deployment_id = i.deployment_id
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM raised)
$$),

-- A silo's status or suspicions change (joining to active, suspected, declared dead). The same version check
-- and version raise as the insert: the row changes only if nobody changed the table since the writer read it.
('UpdateMembershipKey', $$
WITH expected AS (
    SELECT deployment_id
    FROM orleans_membership_version
    WHERE deployment_id = @DeploymentId
      AND version = @Version
    FOR UPDATE
),
updated AS (
    UPDATE orleans_membership m
    SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
    FROM expected e
    WHERE m.deployment_id = e.deployment_id
      AND m.address = @Address
      AND m.port = @Port
      AND m.generation = @Generation
    RETURNING m.deployment_id
),
raised AS (
    UPDATE orleans_membership_version v
    SET version = v.version + 1, changed_at = now()
    FROM updated u
    WHERE v.deployment_id = u.deployment_id
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM raised)
$$),

-- A silo's heartbeat. Deliberately not versioned: Orleans does not treat liveness timestamps as a membership
-- change, and raising the version every few seconds would make every concurrent status change lose and retry.
-- A status change of the same row waits on the row lock, so neither write is lost.
('UpdateIAmAlivetimeKey', $$
UPDATE orleans_membership
SET i_am_alive_time = @IAmAliveTime
WHERE deployment_id = @DeploymentId
  AND address = @Address
  AND port = @Port
  AND generation = @Generation
$$),

-- Forgets a whole cluster (tests, decommissioning); its silo rows go with the version row (ON DELETE CASCADE).
('DeleteMembershipTableEntriesKey', $$
DELETE FROM orleans_membership_version
WHERE deployment_id = @DeploymentId
$$),

-- Removes silos that are dead (status 6) and were last alive before the cutoff. Only dead rows go: a live silo
-- that missed heartbeats is the failure detector's business, not this clean-up's. Removing dead rows changes
-- no live silo's view, so the version is left alone.
('CleanupDefunctSiloEntriesKey', $$
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId
  AND status = 6
  AND i_am_alive_time < @IAmAliveTime
$$),

-- Removes one dead silo that the provider found defunct in a table it read: only if the row is still exactly
-- what it read (same start, heartbeat and suspicions), so a row that changed in between stays.
('CleanupDefunctSiloEntryKey', $$
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId
  AND address = @Address
  AND port = @Port
  AND generation = @Generation
  AND status = 6
  AND start_time = @StartTime
  AND i_am_alive_time = @IAmAliveTime
  AND suspect_times IS NOT DISTINCT FROM @SuspectTimes
$$),

-- The gateways a client may connect to: silos with the requested status (the provider asks for Active) that
-- listen for clients (a proxy port of 0 means no gateway).
('GatewaysQueryKey', $$
SELECT address    AS "Address",
       proxy_port AS "ProxyPort",
       generation AS "Generation"
FROM orleans_membership
WHERE deployment_id = @DeploymentId
  AND status = @Status
  AND proxy_port > 0
$$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
