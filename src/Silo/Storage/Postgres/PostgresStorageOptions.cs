using System.ComponentModel.DataAnnotations;

namespace MyPay.Silo.Storage.Postgres;

/// <summary>How the PostgreSQL store gathers writes into transactions, and how many connections the node opens.</summary>
public sealed class PostgresStorageOptions
{
    /// <summary>
    /// Most connections in the node's pool, which the grain store, the outbox and every query share (Orleans'
    /// membership and reminder providers have small pools of their own). Default 8; a lower <c>Maximum Pool Size</c>
    /// in <c>MYPAY_DATABASE_URL</c> wins. Npgsql hands idle connections out in turn, so every connection a burst
    /// opened stays in use, each its own PostgreSQL backend with its own caches: after a burst of recharges had
    /// opened some 45, payments cost PostgreSQL a third more CPU each than on a fresh node. Measured in one session
    /// (bench/run profile pay after the recharge scenario, two cores): at most 4, 8, 16, 32 and 100 connections
    /// paid 2,406 / 2,288–2,631 / 1,857 / 1,465 / 1,564 req/s, and the recharges before them ran at 488 / 485–595 /
    /// 469 / 364 / 365 req/s. Past the bound a statement waits for a connection (Npgsql's timeout, 15 s) instead.
    /// </summary>
    [Range(1, 1000)]
    public int ConnectionsMax { get; set; } = 8;

    /// <summary>
    /// Most writes in one transaction. Default 256: large enough that a busy node commits a few
    /// transactions per millisecond's worth of work; small enough that one statement stays well
    /// under a millisecond of PostgreSQL time.
    /// </summary>
    [Range(1, 4096)]
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>
    /// Transactions in flight at once. Default 1: the next batch gathers while one commits, and on a node whose
    /// database is CPU-bound that gives larger batches, hence fewer statements per write, than two overlapping
    /// commits. Measured side by side (three rounds, two cores, pay at concurrency 64): closed loop 3,315 / 3,384
    /// / 3,169 req/s with one against 2,834 / 3,258 / 3,368 with two; paced at 750 req/s, p99 30 / 26 / 26 ms
    /// against 40 / 31 / 34 ms. More overlap hides round trips to a distant database, at the price of smaller
    /// batches, and lets a commit waiting on a row lock not hold up the others.
    /// </summary>
    [Range(1, 64)]
    public int ConcurrentCommits { get; set; } = 1;

    /// <summary>
    /// Whether a batch with records goes in one round trip: its states' statement (asked for all or nothing), every write's
    /// records and the COMMIT sent together, and only a batch with a stale or repeated write sent again in two (the states'
    /// statement, then the written writes' records and the COMMIT). Default true; false always takes the two, as before
    /// 2026-12-03, for measuring one against the other (<c>bench/run commit</c>).
    /// </summary>
    public bool RecordsInOneRoundTrip { get; set; } = true;

    /// <summary>
    /// Retries of a whole batch after a deadlock or serialization failure. Default 3; each retry is
    /// immediate, since the competing transaction has already been rolled back or committed.
    /// </summary>
    [Range(0, 10)]
    public int BatchRetriesMax { get; set; } = 3;

    /// <summary>
    /// Most writes waiting for a committer; a write beyond it is refused at once with
    /// <see cref="Grains.StorageOverloadedException"/> (the API's 503 with <c>Retry-After</c>). Default 10,000: one to
    /// two seconds of what one committer was measured to commit (7,300-10,000 writes a second), so a database that
    /// keeps up never sees it, and one that fell behind sheds load instead of holding ever more callers (and their
    /// memory) until each times out unanswered. Lower means earlier refusals under a burst; higher, longer waits.
    /// </summary>
    [Range(1, 1_000_000)]
    public int QueuedWritesMax { get; set; } = 10_000;
}
