using System.Text;
using MyPay.Silo.Grains;
using MyPay.Silo.Storage;
using MyPay.Silo.Storage.Postgres;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests;

/// <summary>
/// Group commit on PostgreSQL: writes of many grains share a transaction, each item checked on its own.
/// These tests read the process-wide meter, so they run in the <see cref="MetricsCollection"/>, alone.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class GroupCommitTests(SiloDatabase database) : IClassFixture<SiloDatabase>
{
    private const string BatchSize = "mypay.silo.commit.batch_size";
    private const string CarefulCommits = "mypay.silo.commit.careful";

    [Fact]
    public async Task Batch_WithAStaleItemAndARepeatedKey_CommitsItsOtherItems()
    {
        // Four writes are forced into one transaction: the only committer is held on a row lock while they queue.
        await using var storage = new PostgresGrainStorage(database.DataSource, new PostgresStorageOptions { ConcurrentCommits = 1 });
        var (blocker, existing, stale, repeated, created) = (NewGrain(), NewGrain(), NewGrain(), NewGrain(), NewGrain());
        foreach (var grain in new[] { blocker, existing, stale, repeated })
        {
            Assert.Equal(WriteOutcome.CommittedAt(1), await WriteAsync(storage, grain, 0, "v1", Operation("recorded")));
        }

        using var batchSizes = new MetricRecorder(BatchSize);
        var outcomes = await WhileCommitterIsHeldAsync(storage, blocker, () =>
        [
            WriteAsync(storage, existing, 1, "v2", Operation("new")),
            WriteAsync(storage, stale, 5, "v2"),
            WriteAsync(storage, repeated, 1, "v2", Operation("recorded")),
            WriteAsync(storage, created, 0, "v1"),
        ]);

        Assert.Equal(WriteOutcome.CommittedAt(2), outcomes[0]);
        Assert.Equal(WriteStatus.VersionConflict, outcomes[1].Status);
        Assert.Equal(WriteStatus.DuplicateOperation, outcomes[2].Status);
        Assert.Equal(WriteOutcome.CommittedAt(1), outcomes[3]);
        await WaitUntilAsync(() => batchSizes.Measurements.Contains(4));
        Assert.Equal((2L, "v2"), await ReadAsync(storage, existing));
        Assert.Equal((1L, "v1"), await ReadAsync(storage, stale));
        Assert.Equal((1L, "v1"), await ReadAsync(storage, repeated));
        Assert.Equal((1L, "v1"), await ReadAsync(storage, created));
        Assert.NotNull(await storage.ReadOperationAsync(existing, "new", CancellationToken.None).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task Batch_WithAnItemRepeatingAKeyWithinItself_StillCommitsItsOtherItems()
    {
        // A malformed write (one key twice) must fail alone, as a stale one does, and not take its batch-mates with it.
        await using var storage = new PostgresGrainStorage(database.DataSource, new PostgresStorageOptions { ConcurrentCommits = 1 });
        var (blocker, good, malformed) = (NewGrain(), NewGrain(), NewGrain());
        Assert.Equal(WriteOutcome.CommittedAt(1), await WriteAsync(storage, blocker, 0, "v1"));

        var writes = WhileCommitterIsHeldAsync(storage, blocker, () =>
        [
            WriteAsync(storage, good, 0, "v1"),
            WriteAsync(storage, malformed, 0, "v1", Operation("twice"), Operation("twice")),
        ]);
        try
        {
            await writes;
        }
        catch (Exception exception) when (exception is not TimeoutException)
        {
            // The malformed write may be refused with an exception; what happened to its batch-mate is checked below.
        }

        Assert.Equal((1L, "v1"), await ReadAsync(storage, good));
        Assert.Null(await storage.ReadAsync(malformed, CancellationToken.None).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task Batch_WithItemsWhoseRecordsBreakAConstraint_FailsThemAlone_AndCommitsItsOtherItems()
    {
        // A record breaking a constraint of its table (here a unique key on a grain's values, and the table's CHECK) rolls
        // the transaction back: the write that carried it must fail alone, naming the constraint, as a stale one does.
        await CreateRecordTableAsync();
        await using var storage = new PostgresGrainStorage(database.DataSource, new PostgresStorageOptions { ConcurrentCommits = 1 }, [new TestRecordWriter()]);
        var (blocker, before, taken, negative, recorded, plain) = (NewGrain(), NewGrain(), NewGrain(), NewGrain(), NewGrain(), NewGrain());
        Assert.Equal(WriteOutcome.CommittedAt(1), await WriteAsync(storage, blocker, 0, "v1"));
        Assert.Equal(WriteOutcome.CommittedAt(1), await WriteAsync(storage, taken, 0, "v1", [new TestRecord(taken.Key, 7, 7)]));

        var writes = await QueueWhileCommitterIsHeldAsync(storage, blocker, () =>
        [
            WriteAsync(storage, before, 0, "v1", [new TestRecord(before.Key, 1, 1)], Operation("before")),
            WriteAsync(storage, taken, 1, "v2", [new TestRecord(taken.Key, 7, 14)], Operation("again")),
            WriteAsync(storage, negative, 0, "v1", [new TestRecord(negative.Key, -1, 0)]),
            WriteAsync(storage, recorded, 0, "v1", [new TestRecord(recorded.Key, 2, 2)]),
            WriteAsync(storage, plain, 0, "v1"),
        ]);

        Assert.Equal(WriteOutcome.CommittedAt(1), await writes[0]);
        var unique = await Assert.ThrowsAsync<RecordConflictException>(() => writes[1]);
        Assert.Equal((taken, "test_record", "test_record_one_value_per_grain"), (unique.Grain, unique.Table, unique.Constraint));
        var check = await Assert.ThrowsAsync<RecordConflictException>(() => writes[2]);
        Assert.Equal((negative, "test_record", "test_record_value_check"), (check.Grain, check.Table, check.Constraint));
        Assert.Equal(WriteOutcome.CommittedAt(1), await writes[3]);
        Assert.Equal(WriteOutcome.CommittedAt(1), await writes[4]);
        Assert.Equal((1L, "v1"), await ReadAsync(storage, taken));
        Assert.Null(await storage.ReadAsync(negative, CancellationToken.None).WaitAsync(TestSilo.Timeout));
        Assert.Null(await storage.ReadOperationAsync(taken, "again", CancellationToken.None).WaitAsync(TestSilo.Timeout));
        Assert.NotNull(await storage.ReadOperationAsync(before, "before", CancellationToken.None).WaitAsync(TestSilo.Timeout));
        Assert.Equal(1, await database.ScalarAsync<long>($"SELECT count(*) FROM test_record WHERE grain_key = '{before.Key}'"));
        Assert.Equal(1, await database.ScalarAsync<long>($"SELECT count(*) FROM test_record WHERE grain_key = '{taken.Key}'"));
        Assert.Equal(1, await database.ScalarAsync<long>($"SELECT count(*) FROM test_record WHERE grain_key = '{recorded.Key}'"));
        Assert.Equal(0, await database.ScalarAsync<long>($"SELECT count(*) FROM test_record WHERE grain_key = '{negative.Key}'"));
    }

    [Fact]
    public async Task Batch_WithRecords_WritesThemInOneRoundTrip_AndOnlyForTheWritesThatCommit()
    {
        // Records travel with the states and the COMMIT in one round trip, sent before the store sees which writes the
        // statement wrote. A clean batch stays that way; one with a stale and a repeated write must be sent again, the
        // careful way, so that only the written ones leave records.
        await CreateRecordTableAsync();
        await using var storage = new PostgresGrainStorage(database.DataSource, new PostgresStorageOptions { ConcurrentCommits = 1 }, [new TestRecordWriter()]);
        var (blocker, clean, written, stale, repeated) = (NewGrain(), NewGrain(), NewGrain(), NewGrain(), NewGrain());
        foreach (var grain in new[] { blocker, stale, repeated })
        {
            Assert.Equal(WriteOutcome.CommittedAt(1), await WriteAsync(storage, grain, 0, "v1", Operation("recorded")));
        }

        using var careful = new MetricRecorder(CarefulCommits);
        Assert.Equal(WriteOutcome.CommittedAt(1), await WriteAsync(storage, clean, 0, "v1", [new TestRecord(clean.Key, 1, 1)]).WaitAsync(TestSilo.Timeout));
        Assert.Empty(careful.Measurements);

        var writes = await QueueWhileCommitterIsHeldAsync(storage, blocker, () =>
        [
            WriteAsync(storage, written, 0, "v1", [new TestRecord(written.Key, 1, 1)], Operation("new")),
            WriteAsync(storage, stale, 5, "v2", [new TestRecord(stale.Key, 2, 2)]),
            WriteAsync(storage, repeated, 1, "v2", [new TestRecord(repeated.Key, 3, 3)], Operation("recorded")),
        ]);

        Assert.Equal(WriteOutcome.CommittedAt(1), await writes[0]);
        Assert.Equal(WriteStatus.VersionConflict, (await writes[1]).Status);
        Assert.Equal(WriteStatus.DuplicateOperation, (await writes[2]).Status);
        foreach (var (grain, rows) in new[] { (clean, 1L), (written, 1L), (stale, 0L), (repeated, 0L) })
        {
            Assert.Equal(rows, await database.ScalarAsync<long>($"SELECT count(*) FROM test_record WHERE grain_key = '{grain.Key}'"));
        }

        Assert.Equal((1L, "v1"), await ReadAsync(storage, stale));
        Assert.Equal([1L], careful.Measurements);
        Assert.NotNull(await storage.ReadOperationAsync(written, "new", CancellationToken.None).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task Write_WhenTheQueueIsFull_IsRefusedAtOnce_AndTheQueuedWritesStillCommit()
    {
        // The committer is held on a row lock, so writes queue; past the limit the next is refused, not left waiting.
        await using var storage = new PostgresGrainStorage(database.DataSource, new PostgresStorageOptions { ConcurrentCommits = 1, QueuedWritesMax = 2 });
        var (first, second, refused) = (NewGrain(), NewGrain(), NewGrain());
        Task<WriteOutcome>[] queued;
        await using (var hold = await CommitterHold.StartAsync(database, storage))
        {
            queued = [WriteAsync(storage, first, 0, "v1"), WriteAsync(storage, second, 0, "v1")];

            var refusal = await Assert.ThrowsAsync<StorageOverloadedException>(() => WriteAsync(storage, refused, 0, "v1", Operation("refused")));
            Assert.Equal(refused, refusal.Grain);
            Assert.Contains("2 writes", refusal.Message, StringComparison.Ordinal);
            await hold.ReleaseAsync();
        }

        Assert.All(await Task.WhenAll(queued).WaitAsync(TestSilo.Timeout), outcome => Assert.Equal(WriteOutcome.CommittedAt(1), outcome));
        Assert.Null(await storage.ReadAsync(refused, CancellationToken.None).WaitAsync(TestSilo.Timeout));
        Assert.Null(await storage.ReadOperationAsync(refused, "refused", CancellationToken.None).WaitAsync(TestSilo.Timeout));

        // Once the queue drains, writes are taken again.
        Assert.Equal(WriteOutcome.CommittedAt(1), await WriteAsync(storage, refused, 0, "v1", Operation("refused")));
    }

    /// <summary>
    /// Holds a row lock on <paramref name="blocker"/>, has <paramref name="storage"/>'s committer block on it,
    /// queues the writes <paramref name="queue"/> makes, then releases the lock: the queued writes form the next batch.
    /// </summary>
    private async Task<WriteOutcome[]> WhileCommitterIsHeldAsync(PostgresGrainStorage storage, GrainId blocker, Func<Task<WriteOutcome>[]> queue) =>
        await Task.WhenAll(await QueueWhileCommitterIsHeldAsync(storage, blocker, queue)).WaitAsync(TestSilo.Timeout);

    /// <summary>As <see cref="WhileCommitterIsHeldAsync"/>, returning each queued write's task, for writes that may fail.</summary>
    private async Task<Task<WriteOutcome>[]> QueueWhileCommitterIsHeldAsync(PostgresGrainStorage storage, GrainId blocker, Func<Task<WriteOutcome>[]> queue)
    {
        Task<WriteOutcome> held;
        Task<WriteOutcome>[] queued;
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT 1 FROM silo_grain_state WHERE grain_type = @type AND grain_key = @key FOR UPDATE";
                command.Parameters.AddWithValue("type", blocker.Type);
                command.Parameters.AddWithValue("key", blocker.Key);
                await command.ExecuteScalarAsync();
            }

            held = WriteAsync(storage, blocker, 1, "v2");
            await WaitUntilAsync(async () => await database.ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0);
            queued = queue();
            await transaction.CommitAsync();
        }

        Assert.Equal(WriteOutcome.CommittedAt(2), await held);
        return queued;
    }

    /// <summary>The table of <see cref="TestRecordWriter"/>, with a unique key on a grain's values for records to break.</summary>
    private async Task CreateRecordTableAsync()
    {
        foreach (var sql in new[] { TestRecordWriter.CreateTable, "CREATE UNIQUE INDEX IF NOT EXISTS test_record_one_value_per_grain ON test_record (grain_key, value)" })
        {
            await using var command = database.DataSource.CreateCommand(sql);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static GrainId NewGrain() => new("batch", Guid.NewGuid().ToString("N"));

    private static OperationRecord Operation(string id) => new(id, "hash", Encoding.UTF8.GetBytes("result"));

    private static Task<WriteOutcome> WriteAsync(PostgresGrainStorage storage, GrainId grain, long expectedVersion, string payload, params OperationRecord[] operations) =>
        WriteAsync(storage, grain, expectedVersion, payload, [], operations);

    private static Task<WriteOutcome> WriteAsync(
        PostgresGrainStorage storage, GrainId grain, long expectedVersion, string payload, IReadOnlyList<object> records, params OperationRecord[] operations) =>
        storage.WriteAsync(new StateWrite(grain, expectedVersion, Encoding.UTF8.GetBytes(payload), operations) { Records = records }, CancellationToken.None)
            .WaitAsync(TestSilo.Timeout);

    private static async Task<(long Version, string Payload)?> ReadAsync(PostgresGrainStorage storage, GrainId grain)
    {
        var stored = await storage.ReadAsync(grain, CancellationToken.None).WaitAsync(TestSilo.Timeout);
        return stored is null ? null : (stored.Version, Encoding.UTF8.GetString(stored.Payload));
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Condition not met within 10 s.");
            await Task.Delay(10);
        }
    }
}
