using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;
using MyPay.Silo.Storage;
using MyPay.Silo.Storage.Postgres;
using MyPay.Silo.Tests.Support;
using Npgsql;

namespace MyPay.Silo.Tests;

/// <summary>
/// Records appended to grain writes (<see cref="IPersistentState{TState}.Append"/>), on each provider: a record is
/// stored with the write that commits the state it was appended on, exactly once, and never for a write that did
/// not commit (a lost version race, a repeated operation key, a command or call that threw). Each record carries
/// the counter's value after its command, so a record from a stale attempt would show up as a wrong total.
/// </summary>
public abstract class GrainRecordTests
{
    protected abstract void AddStorage(IServiceCollection services);

    /// <summary>The stored state of a grain, read without any silo.</summary>
    protected abstract Task<StoredState?> ReadStoredAsync(GrainId grain);

    /// <summary>The records stored for a grain, in the order they were written.</summary>
    protected abstract Task<IReadOnlyList<TestRecord>> ReadRecordsAsync(string key);

    // --- Commands -------------------------------------------------------------------------------------

    [Fact]
    public async Task Command_ThatAppendsARecord_StoresItOnce_AgreeingWithTheCommittedState()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());

        Assert.Equal(5, await counter.AddRecorded(5).WaitAsync(TestSilo.Timeout));
        Assert.Equal(12, await counter.AddRecorded(7).WaitAsync(TestSilo.Timeout));

        await AssertRecordsAsync(counter, (5, 5), (7, 12));
        await AssertStoredAsync(counter, version: 2, value: 12);
    }

    [Fact]
    public async Task CommandsQueuedIntoOneTurn_StoreEveryRecord_WithTheTurnsSingleWrite()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        var (held, release) = await counter.HoldAsync();

        var queued = Enumerable.Range(1, 10).Select(amount => counter.AddRecorded(amount)).ToList();
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        var totals = await Task.WhenAll(queued).WaitAsync(TestSilo.Timeout);
        Assert.Equal(Enumerable.Range(1, 10).Select(n => (long)(n * (n + 1) / 2)), totals);
        await AssertRecordsAsync(counter, [.. Enumerable.Range(1, 10).Select(n => ((long)n, (long)(n * (n + 1) / 2)))]);
        await AssertStoredAsync(counter, version: 1, value: 55);
    }

    [Fact]
    public async Task Command_ThatThrowsAfterAppending_StoresNoRecord_AndLeavesNoneForTheNextWrite()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());

        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.AddRecordedThenThrow(5).WaitAsync(TestSilo.Timeout));

        Assert.Empty(await ReadRecordsAsync(counter.Id.Key));
        Assert.Null(await ReadStoredAsync(counter.Id));
        Assert.Equal(1, await counter.AddRecorded(1).WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(counter, (1, 1));
        await AssertStoredAsync(counter, version: 1, value: 1);
    }

    [Fact]
    public async Task Command_ThatThrowsAfterAppending_InATurnWithOthers_StoresOnlyItsBatchMatesRecords()
    {
        // The batch-mates are re-applied on the committed state after the throw, so their totals skip the failed amount.
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        var (held, release) = await counter.HoldAsync();

        var before = counter.AddRecorded(1);
        var failing = counter.AddRecordedThenThrow(2);
        var after = counter.AddRecorded(3);
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        Assert.Equal(1, await before.WaitAsync(TestSilo.Timeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(TestSilo.Timeout));
        Assert.Equal(4, await after.WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(counter, (1, 1), (3, 4));
        await AssertStoredAsync(counter, version: 1, value: 4);
    }

    [Fact]
    public async Task Command_AppendingNull_FailsAlone_WithArgumentNullException_AndItsBatchMatesCommit()
    {
        // Invalid input: a null record. It is the appending command's mistake, so it should fail that command where it
        // happens (as any command that throws does), not reach storage, where it would fail the whole write or be kept.
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        var (held, release) = await counter.HoldAsync();

        var before = counter.AddRecorded(1);
        var failing = counter.AddNullRecord();
        var after = counter.AddRecorded(2);
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        await Assert.ThrowsAsync<ArgumentNullException>(() => failing.WaitAsync(TestSilo.Timeout));
        Assert.Equal(1, await before.WaitAsync(TestSilo.Timeout));
        Assert.Equal(3, await after.WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(counter, (1, 1), (2, 3));
        await AssertStoredAsync(counter, version: 1, value: 3);
    }

    // --- Conflicts and repeated operation keys --------------------------------------------------------

    [Fact]
    public async Task StaleCommand_ReappliedAfterReload_StoresOnlyTheRecordOfTheAttemptThatCommitted()
    {
        // The second silo's first attempt computes a total of 2 on its stale state and loses the write; re-applied on
        // the reloaded state it computes 3. A record (2, 2) would be the lost attempt's.
        var probe = new GrainProbe();
        await using var first = BuildSilo(probe, options => options.ConflictRetriesMax = 1);
        await using var second = BuildSilo(probe, options => options.ConflictRetriesMax = 1);
        var key = TestSilo.NewKey();
        await first.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await first.GetCounter(key).AddRecorded(1).WaitAsync(TestSilo.Timeout);

        Assert.Equal(3, await second.GetCounter(key).AddRecorded(2).WaitAsync(TestSilo.Timeout));

        Assert.Equal(3, probe.Applications);
        await AssertRecordsAsync(second.GetCounter(key), (1, 1), (2, 3));
        await AssertStoredAsync(second.GetCounter(key), version: 2, value: 3);
    }

    [Fact]
    public async Task StaleCommand_WithNoRetriesLeft_StoresNoRecord_AndTheNextCallStoresOnlyItsOwn()
    {
        await using var first = BuildSilo(new GrainProbe(), options => options.ConflictRetriesMax = 0);
        await using var second = BuildSilo(new GrainProbe(), options => options.ConflictRetriesMax = 0);
        var key = TestSilo.NewKey();
        await first.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await first.GetCounter(key).AddRecorded(1).WaitAsync(TestSilo.Timeout);

        await Assert.ThrowsAsync<StateConflictException>(() => second.GetCounter(key).AddRecorded(10).WaitAsync(TestSilo.Timeout));

        await AssertRecordsAsync(second.GetCounter(key), (1, 1));
        Assert.Equal(21, await second.GetCounter(key).AddRecorded(20).WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(second.GetCounter(key), (1, 1), (20, 21));
        await AssertStoredAsync(second.GetCounter(key), version: 2, value: 21);
    }

    [Fact]
    public async Task RepeatedOperationKey_OnAnotherSilo_IsAnsweredFromStorage_WithoutASecondRecord()
    {
        await using var first = BuildSilo(new GrainProbe());
        await using var second = BuildSilo(new GrainProbe());
        var key = TestSilo.NewKey();
        var operation = new OperationKey("k1", "hashA");
        await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await first.GetCounter(key).AddRecorded(5, operation).WaitAsync(TestSilo.Timeout);

        Assert.Equal(5, await second.GetCounter(key).AddRecorded(5, operation).WaitAsync(TestSilo.Timeout));

        await AssertRecordsAsync(second.GetCounter(key), (5, 5));
        await AssertStoredAsync(second.GetCounter(key), version: 1, value: 5);
    }

    [Fact]
    public async Task RepeatedOperationKey_OnTheSameSilo_StoresOneRecord()
    {
        // Repeats queued behind the first use of the key wait for later turns and are answered from its record.
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        var operation = new OperationKey("k1", "hashA");
        var (held, release) = await counter.HoldAsync();

        var calls = Enumerable.Range(0, 3).Select(_ => counter.AddRecorded(5, operation)).ToList();
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        Assert.All(await Task.WhenAll(calls).WaitAsync(TestSilo.Timeout), total => Assert.Equal(5, total));
        Assert.Equal(5, await counter.AddRecorded(5, operation).WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(counter, (5, 5));
        await AssertStoredAsync(counter, version: 1, value: 5);
    }

    [Fact]
    public async Task RepeatedOperationKey_QueuedWithABatchMate_StoresTheBatchMatesRecordOnce_AndNoneForTheRepeat()
    {
        // The stale silo's turn [repeat of k1, add 3] is refused as a duplicate; k1 is answered from storage and the
        // add is re-applied alone on the reloaded state. Neither the refused write's records nor a second k1 record may appear.
        await using var first = BuildSilo(new GrainProbe());
        await using var second = BuildSilo(new GrainProbe());
        var key = TestSilo.NewKey();
        var operation = new OperationKey("k1", "hashA");
        var counter = second.GetCounter(key);
        await counter.GetValue().WaitAsync(TestSilo.Timeout);
        await first.GetCounter(key).AddRecorded(5, operation).WaitAsync(TestSilo.Timeout);
        var (held, release) = await counter.HoldAsync();

        var repeat = counter.AddRecorded(5, operation);
        var mate = counter.AddRecorded(3);
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        Assert.Equal(5, await repeat.WaitAsync(TestSilo.Timeout));
        Assert.Equal(8, await mate.WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(counter, (5, 5), (3, 8));
        await AssertStoredAsync(counter, version: 2, value: 8);
    }

    [Fact]
    public async Task TenThousandRecordedIncrements_AcrossTwoSilos_StoreExactlyOneRecordEach()
    {
        // Both silos hold an activation of the key, so turns keep losing races and being re-applied; each increment's
        // record must be stored once, from the attempt that committed. An increment that exhausts the silo's retries
        // failed without effect, so the test sends it again. Each caller's answer is its record's total.
        const int incrementCount = 10_000;
        var probe = new GrainProbe();
        Action<SiloOptions> retries = options => options.ConflictRetriesMax = 100;
        await using var first = BuildSilo(probe, retries);
        await using var second = BuildSilo(probe, retries);
        var key = TestSilo.NewKey();
        await first.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);

        var calls = await TestSilo.SendConcurrentlyAsync(incrementCount, async i =>
        {
            var counter = (i % 2 == 0 ? first : second).GetCounter(key);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await counter.AddRecorded(1);
                }
                catch (StateConflictException) when (attempt < 10)
                {
                    // Lost every retry: nothing was applied, so sending it again is safe.
                }
            }
        });
        var answers = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(probe.Applications > incrementCount, "No increment was re-applied: the silos never conflicted.");
        var records = await ReadRecordsAsync(key);
        Assert.Equal(incrementCount, records.Count);
        Assert.All(records, record => Assert.Equal(1, record.Value));
        Assert.Equal(Enumerable.Range(1, incrementCount).Select(total => (long)total), records.Select(record => record.Total).Order());
        Assert.Equal(Enumerable.Range(1, incrementCount).Select(total => (long)total), answers.Order());
        var stored = await ReadStoredAsync(TestSilo.CounterId(key));
        Assert.NotNull(stored);
        Assert.Equal(records.Sum(record => record.Value), stored.ToCounter().Value);
    }

    // --- Asynchronous call turns ------------------------------------------------------------------------

    [Fact]
    public async Task Call_ThatAppendsAndWritesState_StoresTheRecord()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());

        Assert.Equal(5, await counter.AddRecordedAndWrite(5).WaitAsync(TestSilo.Timeout));

        await AssertRecordsAsync(counter, (5, 5));
        await AssertStoredAsync(counter, version: 1, value: 5);
    }

    [Fact]
    public async Task Call_ThatAppendsAndThrowsWithoutWriting_StoresNothing_AndLeavesNoneForTheNextWrite()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.AddRecorded(1).WaitAsync(TestSilo.Timeout);

        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.AddRecordedThenThrowAsync(5).WaitAsync(TestSilo.Timeout));

        await AssertRecordsAsync(counter, (1, 1));
        Assert.Equal(3, await counter.AddRecorded(2).WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(counter, (1, 1), (2, 3));
        await AssertStoredAsync(counter, version: 2, value: 3);
    }

    [Fact]
    public async Task Call_ThatAppendsWithoutWriting_HasItsRecordStoredWithTheStatesNextWrite()
    {
        // Append's contract: the record goes with the state's next write, here a later command's, together with
        // the call's change of state.
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());

        Assert.Equal(5, await counter.AddRecordedWithoutWriting(5).WaitAsync(TestSilo.Timeout));

        Assert.Empty(await ReadRecordsAsync(counter.Id.Key));
        Assert.Equal(6, await counter.AddRecorded(1).WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(counter, (5, 5), (1, 6));
        await AssertStoredAsync(counter, version: 1, value: 6);
    }

    [Fact]
    public async Task Call_WhoseWriteLosesToAnotherSilo_StoresNoRecord()
    {
        await using var first = BuildSilo(new GrainProbe());
        await using var second = BuildSilo(new GrainProbe());
        var key = TestSilo.NewKey();
        await first.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await first.GetCounter(key).AddRecordedAndWrite(1).WaitAsync(TestSilo.Timeout);

        await Assert.ThrowsAsync<StateConflictException>(() => second.GetCounter(key).AddRecordedAndWrite(10).WaitAsync(TestSilo.Timeout));

        await AssertRecordsAsync(second.GetCounter(key), (1, 1));
        Assert.Equal(11, await second.GetCounter(key).AddRecordedAndWrite(10).WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(second.GetCounter(key), (1, 1), (10, 11));
        await AssertStoredAsync(second.GetCounter(key), version: 2, value: 11);
    }

    protected ServiceProvider BuildSilo(GrainProbe probe, Action<SiloOptions>? configure = null) =>
        TestSilo.Build(AddStorage, probe, configure);

    protected async Task AssertRecordsAsync(ICounterGrain counter, params (long Value, long Total)[] expected)
    {
        var records = await ReadRecordsAsync(counter.Id.Key);
        Assert.Equal(expected, records.Select(record => (record.Value, record.Total)));
    }

    /// <summary>The stored row and the records agree: the records' amounts add up to the stored value.</summary>
    protected async Task AssertStoredAsync(ICounterGrain counter, long version, long value)
    {
        var stored = await ReadStoredAsync(counter.Id);
        Assert.NotNull(stored);
        Assert.Equal((version, value), (stored.Version, stored.ToCounter().Value));
        Assert.Equal(value, (await ReadRecordsAsync(counter.Id.Key)).Sum(record => record.Value));
    }
}

public sealed class MemoryGrainRecordTests : GrainRecordTests
{
    // One store for every silo of a test, as one database serves every node; a new one per test.
    private readonly MemoryGrainStorage storage = new();

    protected override void AddStorage(IServiceCollection services) => services.AddSingleton<IGrainStorage>(storage);

    protected override Task<StoredState?> ReadStoredAsync(GrainId grain) => storage.ReadAsync(grain, CancellationToken.None);

    /// <summary>Every record the store holds must be a test record: nothing else is ever appended by a test that succeeds.</summary>
    protected override Task<IReadOnlyList<TestRecord>> ReadRecordsAsync(string key) =>
        Task.FromResult<IReadOnlyList<TestRecord>>([.. storage.Records.Select(record => Assert.IsType<TestRecord>(record)).Where(record => record.GrainKey == key)]);

    [Fact]
    public async Task Records_OfSeveralGrains_AreKeptInCommitOrder()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var (a, b) = (provider.GetCounter(TestSilo.NewKey()), provider.GetCounter(TestSilo.NewKey()));

        await a.AddRecorded(1).WaitAsync(TestSilo.Timeout);
        await b.AddRecorded(2).WaitAsync(TestSilo.Timeout);
        await a.AddRecorded(3).WaitAsync(TestSilo.Timeout);

        Assert.Equal(
            [new TestRecord(a.Id.Key, 1, 1), new TestRecord(b.Id.Key, 2, 2), new TestRecord(a.Id.Key, 3, 4)],
            storage.Records);
    }

    [Fact]
    public async Task Records_IsASnapshot_ThatLaterWritesDoNotChange()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.AddRecorded(1).WaitAsync(TestSilo.Timeout);

        var snapshot = storage.Records;
        await counter.AddRecorded(1).WaitAsync(TestSilo.Timeout);

        Assert.Single(snapshot);
        Assert.Equal(2, storage.Records.Count);
    }
}

/// <summary>
/// The same, on PostgreSQL through <see cref="TestRecordWriter"/>, plus what only a database has: a writer's
/// constraint that fails the write (and its batch), and a record type no writer is registered for.
/// </summary>
public sealed class PostgresGrainRecordTests(RecordDatabase database) : GrainRecordTests, IClassFixture<RecordDatabase>
{
    protected override void AddStorage(IServiceCollection services)
    {
        services.AddPostgresGrainStorage($"{database.Silo.ConnectionString};Maximum Pool Size=20");
        services.AddRecordWriter<TestRecordWriter>();
    }

    protected override Task<StoredState?> ReadStoredAsync(GrainId grain) => database.Silo.ReadStateAsync(grain);

    protected override Task<IReadOnlyList<TestRecord>> ReadRecordsAsync(string key) => database.ReadRecordsAsync(key);

    [Fact]
    public async Task RecordViolatingAWritersConstraint_FailsTheStateWrite_LeavesTheRowUnchanged_AndTheGrainStillServes()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.AddRecorded(10).WaitAsync(TestSilo.Timeout);
        var before = await ReadStoredAsync(counter.Id);

        var violation = await Assert.ThrowsAsync<PostgresException>(() => counter.AddRecorded(-1).WaitAsync(TestSilo.Timeout));

        Assert.Equal(PostgresErrorCodes.CheckViolation, violation.SqlState);
        var after = await ReadStoredAsync(counter.Id);
        Assert.NotNull(before);
        Assert.NotNull(after);
        Assert.Equal(before.Version, after.Version);
        Assert.Equal(before.Payload, after.Payload);
        await AssertRecordsAsync(counter, (10, 10));
        Assert.Equal(10, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        Assert.Equal(15, await counter.AddRecorded(5).WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(counter, (10, 10), (5, 15));
        await AssertStoredAsync(counter, version: 2, value: 15);
    }

    [Fact]
    public async Task RecordViolatingAWritersConstraint_FailsEveryWriteInItsGroupCommitBatch()
    {
        // By design (see IRecordWriter): a writer's constraint is an invariant's last line of defence, not a way to
        // refuse one command. The violation aborts the batch's transaction, so every grain in it fails, including one
        // that appended nothing; their callers get the violation, nothing of the batch is stored, and each grain
        // reloads and serves its next call.
        await using var storage = new PostgresGrainStorage(
            database.Silo.DataSource, new PostgresStorageOptions { ConcurrentCommits = 1 }, [new TestRecordWriter()]);
        var counting = new CountingGrainStorage(storage);
        await using var provider = TestSilo.Build(services => services.AddSingleton<IGrainStorage>(counting), new GrainProbe());
        var (violating, recording, plain) = (provider.GetCounter(TestSilo.NewKey()), provider.GetCounter(TestSilo.NewKey()), provider.GetCounter(TestSilo.NewKey()));
        await violating.AddRecorded(10).WaitAsync(TestSilo.Timeout);
        await recording.AddRecorded(1).WaitAsync(TestSilo.Timeout);
        await plain.Increment().WaitAsync(TestSilo.Timeout);

        Task<long>[] batch;
        await using (var hold = await CommitterHold.StartAsync(database.Silo, storage))
        {
            var queuedBefore = counting.Writes;
            batch = [violating.AddRecorded(-1), recording.AddRecorded(2), plain.Increment()];
            await WaitUntilAsync(() => counting.Writes == queuedBefore + batch.Length);
            await hold.ReleaseAsync();
        }

        foreach (var call in batch)
        {
            var failure = await Assert.ThrowsAsync<PostgresException>(() => call.WaitAsync(TestSilo.Timeout));
            Assert.Equal(PostgresErrorCodes.CheckViolation, failure.SqlState);
        }

        await AssertStoredAsync(violating, version: 1, value: 10);
        await AssertStoredAsync(recording, version: 1, value: 1);
        var plainStored = await ReadStoredAsync(plain.Id);
        Assert.NotNull(plainStored);
        Assert.Equal((1L, 1L), (plainStored.Version, plainStored.ToCounter().Value));
        Assert.Equal(11, await violating.AddRecorded(1).WaitAsync(TestSilo.Timeout));
        Assert.Equal(3, await recording.AddRecorded(2).WaitAsync(TestSilo.Timeout));
        Assert.Equal(2, await plain.Increment().WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(violating, (10, 10), (1, 11));
        await AssertRecordsAsync(recording, (1, 1), (2, 3));
    }

    [Fact]
    public async Task RecordOfATypeWithNoWriter_FailsThatGrainsWrite_WithArgumentException_WhileOthersCommit()
    {
        // The refused write never joins a batch: it fails at once, even while the committer is held, and the writes
        // queued beside it commit with their records.
        await using var storage = new PostgresGrainStorage(
            database.Silo.DataSource, new PostgresStorageOptions { ConcurrentCommits = 1 }, [new TestRecordWriter()]);
        var counting = new CountingGrainStorage(storage);
        await using var provider = TestSilo.Build(services => services.AddSingleton<IGrainStorage>(counting), new GrainProbe());
        var unwritable = provider.GetCounter(TestSilo.NewKey());
        var others = Enumerable.Range(0, 20).Select(_ => provider.GetCounter(TestSilo.NewKey())).ToList();
        await unwritable.AddRecorded(1).WaitAsync(TestSilo.Timeout);

        Task<long>[] committed;
        await using (var hold = await CommitterHold.StartAsync(database.Silo, storage))
        {
            var queuedBefore = counting.Writes;
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => unwritable.AddUnwritable().WaitAsync(TestSilo.Timeout));
            Assert.Contains(nameof(UnwritableRecord), refused.Message, StringComparison.Ordinal);
            Assert.Contains(unwritable.Id.Key, refused.Message, StringComparison.Ordinal);
            committed = [.. others.Select(other => other.AddRecorded(4))];
            await WaitUntilAsync(() => counting.Writes == queuedBefore + 1 + others.Count);
            await hold.ReleaseAsync();
        }

        Assert.All(await Task.WhenAll(committed).WaitAsync(TestSilo.Timeout), total => Assert.Equal(4, total));
        foreach (var other in others)
        {
            await AssertRecordsAsync(other, (4, 4));
            await AssertStoredAsync(other, version: 1, value: 4);
        }

        await AssertStoredAsync(unwritable, version: 1, value: 1);
        Assert.Equal(3, await unwritable.AddRecorded(2).WaitAsync(TestSilo.Timeout));
        await AssertRecordsAsync(unwritable, (1, 1), (2, 3));
    }

    [Fact]
    public async Task Batch_StoresTheRecordsOfItsCommittedItemsOnly_WithOneWriterCallForTheBatch()
    {
        // Storage level, four writes in one transaction: one committed, one stale, one repeating a recorded operation
        // key, one new grain. Only the committed and the new one's records are stored, in one call of the writer.
        var writer = new TestRecordWriter();
        await using var storage = new PostgresGrainStorage(
            database.Silo.DataSource, new PostgresStorageOptions { ConcurrentCommits = 1 }, [writer]);
        var (existing, stale, repeated, created) = (TestSilo.NewKey(), TestSilo.NewKey(), TestSilo.NewKey(), TestSilo.NewKey());
        foreach (var key in new[] { existing, stale, repeated })
        {
            Assert.Equal(WriteOutcome.CommittedAt(1), await WriteAsync(storage, key, 0, [new TestRecord(key, 1, 1)], "recorded"));
        }

        WriteOutcome[] outcomes;
        int callsBefore;
        await using (var hold = await CommitterHold.StartAsync(database.Silo, storage))
        {
            callsBefore = writer.Calls;
            var queued = new[]
            {
                WriteAsync(storage, existing, 1, [new TestRecord(existing, 2, 3), new TestRecord(existing, 3, 6)], "new"),
                WriteAsync(storage, stale, 5, [new TestRecord(stale, 2, 3)]),
                WriteAsync(storage, repeated, 1, [new TestRecord(repeated, 2, 3)], "recorded"),
                WriteAsync(storage, created, 0, [new TestRecord(created, 7, 7)]),
            };
            await hold.ReleaseAsync();
            outcomes = await Task.WhenAll(queued).WaitAsync(TestSilo.Timeout);
        }

        Assert.Equal(
            [WriteStatus.Committed, WriteStatus.VersionConflict, WriteStatus.DuplicateOperation, WriteStatus.Committed],
            outcomes.Select(outcome => outcome.Status));
        Assert.Equal(1, writer.Calls - callsBefore);
        Assert.Equal([new TestRecord(existing, 1, 1), new TestRecord(existing, 2, 3), new TestRecord(existing, 3, 6)], await database.ReadRecordsAsync(existing));
        Assert.Equal([new TestRecord(stale, 1, 1)], await database.ReadRecordsAsync(stale));
        Assert.Equal([new TestRecord(repeated, 1, 1)], await database.ReadRecordsAsync(repeated));
        Assert.Equal([new TestRecord(created, 7, 7)], await database.ReadRecordsAsync(created));
    }

    [Fact]
    public async Task Write_CarryingARecordWithNoWriter_IsRefusedWithArgumentException_AndStoresNothing()
    {
        await using var storage = new PostgresGrainStorage(
            database.Silo.DataSource, new PostgresStorageOptions(), [new TestRecordWriter()]);
        var key = TestSilo.NewKey();

        await Assert.ThrowsAsync<ArgumentException>(() => storage.WriteAsync(
            new StateWrite(TestSilo.CounterId(key), 0, "{}"u8.ToArray(), []) { Records = [new TestRecord(key, 1, 1), new UnwritableRecord(key)] },
            CancellationToken.None).WaitAsync(TestSilo.Timeout));

        Assert.Null(await database.Silo.ReadStateAsync(TestSilo.CounterId(key)));
        Assert.Empty(await database.ReadRecordsAsync(key));
    }

    [Fact]
    public async Task AddRecordWriter_TwiceForOneRecordType_FailsWhenStorageIsCreated_NamingTheType()
    {
        // Two writers for one type would store each record twice, or leave which one wins to registration order.
        await using var provider = TestSilo.Build(
            services =>
            {
                AddStorage(services);
                services.AddRecordWriter<TestRecordWriter>();
            },
            new GrainProbe());

        var exception = Assert.ThrowsAny<ArgumentException>(provider.GetRequiredService<IGrainStorage>);
        Assert.Contains(nameof(TestRecord), exception.Message, StringComparison.Ordinal);
    }

    private static Task<WriteOutcome> WriteAsync(PostgresGrainStorage storage, string key, long expectedVersion, IReadOnlyList<object> records, string? operationId = null) =>
        storage.WriteAsync(
            new StateWrite(TestSilo.CounterId(key), expectedVersion, "{}"u8.ToArray(), operationId is null ? [] : [new OperationRecord(operationId, "hash", "0"u8.ToArray())])
            {
                Records = records,
            },
            CancellationToken.None).WaitAsync(TestSilo.Timeout);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Condition not met within {TestSilo.Timeout}.");
            await Task.Delay(10);
        }
    }
}
