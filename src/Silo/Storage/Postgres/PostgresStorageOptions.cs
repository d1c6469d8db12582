using System.ComponentModel.DataAnnotations;

namespace MyPay.Silo.Storage.Postgres;

/// <summary>How the PostgreSQL store gathers writes into transactions.</summary>
public sealed class PostgresStorageOptions
{
    /// <summary>
    /// Most writes in one transaction. Default 256: large enough that a busy node commits a few
    /// transactions per millisecond's worth of work; small enough that one statement stays well
    /// under a millisecond of PostgreSQL time.
    /// </summary>
    [Range(1, 4096)]
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>
    /// Transactions in flight at once. Default 2: one commits while the next batch gathers.
    /// More overlap hides round trips but makes batches smaller.
    /// </summary>
    [Range(1, 64)]
    public int ConcurrentCommits { get; set; } = 2;

    /// <summary>
    /// Retries of a whole batch after a deadlock or serialization failure. Default 3; each retry is
    /// immediate, since the competing transaction has already been rolled back or committed.
    /// </summary>
    [Range(0, 10)]
    public int BatchRetriesMax { get; set; } = 3;
}
