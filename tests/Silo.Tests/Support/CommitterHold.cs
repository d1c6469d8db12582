using System.Text;
using MyPay.Silo.Grains;
using MyPay.Silo.Storage;
using Npgsql;

namespace MyPay.Silo.Tests.Support;

/// <summary>
/// Holds the only committer of a PostgreSQL storage (built with <c>ConcurrentCommits = 1</c>) on a row lock the
/// test owns, so the writes queued meanwhile are taken together into its next batch when <see cref="ReleaseAsync"/>
/// lets it go. The same technique as <see cref="GroupCommitTests"/>, for tests that queue writes through a silo.
/// </summary>
public sealed class CommitterHold : IAsyncDisposable
{
    private readonly NpgsqlConnection connection;
    private readonly NpgsqlTransaction transaction;
    private readonly Task<WriteOutcome> held;

    private CommitterHold(NpgsqlConnection connection, NpgsqlTransaction transaction, Task<WriteOutcome> held)
    {
        this.connection = connection;
        this.transaction = transaction;
        this.held = held;
    }

    /// <summary>Writes a blocker grain, locks its row, and returns once the committer waits on that lock with the blocker's second write.</summary>
    public static async Task<CommitterHold> StartAsync(SiloDatabase database, IGrainStorage storage)
    {
        var blocker = new GrainId("blocker", Guid.NewGuid().ToString("N"));
        Assert.Equal(WriteOutcome.CommittedAt(1), await storage.WriteAsync(
            new StateWrite(blocker, 0, Encoding.UTF8.GetBytes("v1"), []), CancellationToken.None).WaitAsync(TestSilo.Timeout));

        var connection = await database.DataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT 1 FROM silo_grain_state WHERE grain_type = @type AND grain_key = @key FOR UPDATE";
            command.Parameters.AddWithValue("type", blocker.Type);
            command.Parameters.AddWithValue("key", blocker.Key);
            await command.ExecuteScalarAsync();
        }

        var held = storage.WriteAsync(new StateWrite(blocker, 1, Encoding.UTF8.GetBytes("v2"), []), CancellationToken.None);
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (await database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The committer did not block on the row lock within {TestSilo.Timeout}.");
            await Task.Delay(10);
        }

        return new CommitterHold(connection, transaction, held);
    }

    /// <summary>Releases the lock: the blocker's write commits, then everything queued meanwhile is committed as one batch.</summary>
    public async Task ReleaseAsync()
    {
        await transaction.CommitAsync();
        Assert.Equal(WriteOutcome.CommittedAt(2), await held.WaitAsync(TestSilo.Timeout));
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
