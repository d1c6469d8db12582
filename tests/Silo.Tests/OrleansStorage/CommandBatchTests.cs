using MyPay.Silo.Grains;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests.OrleansStorage;

/// <summary>
/// A hot grain on Orleans (<see cref="Batching.CommandBatch{TState}"/> in a reentrant grain), on a real PostgreSQL
/// database: commands that arrive together share writes and are each answered after their write commits; a failed
/// write leaves the committed state, never a change that was not stored; operation keys take effect once.
/// </summary>
public sealed class CommandBatchTests(OrleansStorageCluster fixture) : IClassFixture<OrleansStorageCluster>
{
    [Fact]
    public async Task ConcurrentCommands_ShareWrites_AndEachIsAnsweredWithItsOwnResult()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(key);

        var totals = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => tally.Add(1))).WaitAsync(TestSilo.Timeout);

        Assert.Equal(Enumerable.Range(1, 200).Select(total => (long)total), totals.Order());
        var version = await fixture.Database.Silo.ScalarAsync<long>($"SELECT version FROM silo_grain_state WHERE grain_type = '{BatchedTallyGrain.StateName}' AND grain_key = '{key}'");
        Assert.InRange(version, 1, 199);
        await fixture.AssertStoredAsync(BatchedTallyGrain.StateName, key, version, total: 200);
        var records = await fixture.Database.ReadRecordsAsync(key);
        Assert.Equal(Enumerable.Range(1, 200).Select(total => (long)total), records.Select(record => record.Total));
    }

    [Fact]
    public async Task StateReadBeforeItIsLoaded_FailsNamingLoadAsync()
    {
        var tally = fixture.Grains.GetGrain<IUnloadedTallyGrain>(NewKey());

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => tally.Committed().WaitAsync(TestSilo.Timeout));

        Assert.Contains("LoadAsync", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RepeatedOperationKey_IsAnsweredWithTheFirstResult_AndTakesEffectOnce()
    {
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(NewKey());
        var operation = new OperationKey("add-5", "hash-a");

        Assert.Equal(5, await tally.Add(5, operation).WaitAsync(TestSilo.Timeout));
        Assert.Equal(7, await tally.Add(2).WaitAsync(TestSilo.Timeout));
        Assert.Equal(5, await tally.Add(5, operation).WaitAsync(TestSilo.Timeout));

        Assert.Equal(7, await tally.Committed());
    }

    [Fact]
    public async Task RepeatedOperationKey_SentConcurrently_TakesEffectOnce()
    {
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(NewKey());
        var operation = new OperationKey("add-3", "hash-a");

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => tally.Add(3, operation))).WaitAsync(TestSilo.Timeout);

        Assert.All(answers, answer => Assert.Equal(3, answer));
        Assert.Equal(3, await tally.Committed());
    }

    [Fact]
    public async Task OperationKey_ReusedWithAnotherRequest_IsRefused_AndChangesNothing()
    {
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(NewKey());
        await tally.Add(5, new OperationKey("key", "hash-a")).WaitAsync(TestSilo.Timeout);

        var reused = await Assert.ThrowsAsync<OperationKeyReusedException>(() => tally.Add(6, new OperationKey("key", "hash-b")).WaitAsync(TestSilo.Timeout));

        Assert.Equal("key", reused.OperationId);
        Assert.Equal(5, await tally.Committed());
    }

    [Fact]
    public async Task OperationKey_RepeatedAfterDeactivation_IsAnsweredFromStorage_AndTakesEffectOnce()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(key);
        var operation = new OperationKey("add-5", "hash-a");
        await tally.Add(5, operation).WaitAsync(TestSilo.Timeout);
        await tally.Add(1).WaitAsync(TestSilo.Timeout);
        await tally.Deactivate();

        // A new activation has no memory of the key: its write is refused as a duplicate, and the answer comes from the record.
        Assert.Equal(5, await tally.Add(5, operation).WaitAsync(TestSilo.Timeout));
        Assert.Equal(6, await tally.Committed());
        await fixture.AssertStoredAsync(BatchedTallyGrain.StateName, key, version: 2, total: 6);
        await Assert.ThrowsAsync<OperationKeyReusedException>(() => tally.Add(5, new OperationKey("add-5", "hash-b")).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task OperationKey_RepeatedAfterDeactivation_WhereItWouldNowFail_IsAnsweredWithTheFirstResult()
    {
        // A recharge credited once cannot be credited again: the repeat's caller is owed the first answer, not the
        // failure of applying it to today's state.
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(NewKey());
        var operation = new OperationKey("fill-up", "hash-a");
        Assert.Equal(10, await tally.AddWithin(10, limitWon: 10, operation).WaitAsync(TestSilo.Timeout));
        await tally.Deactivate();

        Assert.Equal(10, await tally.AddWithin(10, limitWon: 10, operation).WaitAsync(TestSilo.Timeout));
        Assert.Equal(10, await tally.Committed());
        await Assert.ThrowsAsync<InvalidOperationException>(() => tally.AddWithin(10, limitWon: 10).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task CommandThatThrowsHalfway_FailsAlone_AndItsChangeIsUndone()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(key);
        await using var hold = await fixture.HoldCommitterAsync();

        // Three calls in flight at once while the committer is held; Orleans may deliver them in any order.
        var ten = tally.Add(10);
        var tooMuch = tally.AddWithin(1_000, limitWon: 500);
        var twenty = tally.Add(20);
        await fixture.WaitForQueuedWritesAsync(1);
        await hold.ReleaseAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => tooMuch.WaitAsync(TestSilo.Timeout));
        var totals = await Task.WhenAll(ten, twenty).WaitAsync(TestSilo.Timeout);
        Assert.Contains(totals, total => total == 30);
        Assert.True(totals.SequenceEqual([10, 30]) || totals.SequenceEqual([30, 20]), $"Totals {string.Join(", ", totals)} do not follow one order.");
        Assert.Equal(30, await tally.Committed());
        var records = await fixture.Database.ReadRecordsAsync(key);
        Assert.Equal([10L, 20L], records.Select(record => record.Value).Order());
        Assert.Equal(30, records.Max(record => record.Total));
    }

    [Fact]
    public async Task WriteRefusedByTheDatabase_FailsItsCommands_AndLeavesTheCommittedState()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(key);
        await tally.Add(4).WaitAsync(TestSilo.Timeout);

        var refused = await Assert.ThrowsAsync<RecordConflictException>(() => tally.AddRefusedByTheDatabase(100).WaitAsync(TestSilo.Timeout));

        Assert.Equal("test_record_value_check", refused.Constraint);
        Assert.Equal(4, await tally.Committed());
        Assert.Equal(5, await tally.Add(1).WaitAsync(TestSilo.Timeout));
        await fixture.AssertStoredAsync(BatchedTallyGrain.StateName, key, version: 2, total: 5);
        Assert.Equal([new TestRecord(key, 4, 4), new TestRecord(key, 1, 5)], await fixture.Database.ReadRecordsAsync(key));
    }

    [Fact]
    public async Task CommandWhoseRecordTheDatabaseRefuses_FailsAlone_AndTheCommandsSharingItsWriteCommit()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(key);
        await using var hold = await fixture.HoldCommitterAsync();

        // The first write waits on the held committer; the three commands after it are applied meanwhile and share the next.
        var first = tally.Add(1);
        await fixture.WaitForQueuedWritesAsync(1);
        var ten = tally.Add(10);
        var refused = tally.AddRefusedByTheDatabase(100);
        var twenty = tally.Add(20);
        Assert.Equal(0, await tally.Committed());
        await hold.ReleaseAsync();

        var conflict = await Assert.ThrowsAsync<RecordConflictException>(() => refused.WaitAsync(TestSilo.Timeout));
        Assert.Equal("test_record_value_check", conflict.Constraint);
        Assert.Equal(1, await first.WaitAsync(TestSilo.Timeout));
        var totals = await Task.WhenAll(ten, twenty).WaitAsync(TestSilo.Timeout);
        Assert.True(totals.SequenceEqual([11, 31]) || totals.SequenceEqual([31, 21]), $"Totals {string.Join(", ", totals)} do not follow one order.");
        Assert.Equal(31, await tally.Committed());
        Assert.Equal([1L, 10L, 20L], (await fixture.Database.ReadRecordsAsync(key)).Select(record => record.Value).Order());
    }

    [Fact]
    public async Task BatchRefusedByAConstraint_FailsACommandNotToBeReapplied_WithAConflict_AndWritesTheOthersAlone()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(key);
        await using var hold = await fixture.HoldCommitterAsync();

        var first = tally.Add(1);
        await fixture.WaitForQueuedWritesAsync(1);
        var overwrite = tally.Overwrite(50);
        var refused = tally.AddRefusedByTheDatabase(100);
        var ten = tally.Add(10);
        await hold.ReleaseAsync();

        await Assert.ThrowsAsync<RecordConflictException>(() => refused.WaitAsync(TestSilo.Timeout));
        await Assert.ThrowsAsync<StateConflictException>(() => overwrite.WaitAsync(TestSilo.Timeout));
        Assert.Equal(1, await first.WaitAsync(TestSilo.Timeout));
        Assert.Equal(11, await ten.WaitAsync(TestSilo.Timeout));
        Assert.Equal(11, await tally.Committed());
        Assert.Equal([1L, 10L], (await fixture.Database.ReadRecordsAsync(key)).Select(record => record.Value).Order());
    }

    [Fact]
    public async Task WriteThatLostToAnotherWriter_IsReappliedOnTheReloadedState()
    {
        var (key, tally) = await OvertakenByAnotherWriterAsync();

        Assert.Equal(102, await tally.Add(2).WaitAsync(TestSilo.Timeout));

        await fixture.AssertStoredAsync(BatchedTallyGrain.StateName, key, version: 10, total: 102);
        Assert.Equal([new TestRecord(key, 1, 1), new TestRecord(key, 2, 102)], await fixture.Database.ReadRecordsAsync(key));
    }

    [Fact]
    public async Task WriteThatLostToAnotherWriter_OfACommandNotToBeReapplied_FailsWithAConflict_AndKeepsTheOtherWrite()
    {
        var (key, tally) = await OvertakenByAnotherWriterAsync();

        await Assert.ThrowsAsync<StateConflictException>(() => tally.Overwrite(5).WaitAsync(TestSilo.Timeout));

        await fixture.AssertStoredAsync(BatchedTallyGrain.StateName, key, version: 9, total: 100);
        Assert.Equal(100, await tally.Committed());
    }

    [Fact]
    public async Task WriteThatKeepsLosing_FailsWithAConflict_AfterBoundedRetries()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(key);
        await tally.Add(1).WaitAsync(TestSilo.Timeout);

        // Every write of this grain is skipped, as if another node had always written first: the update finds no row
        // of the version it expects, however often the grain reloads.
        await using (var trigger = fixture.Database.Silo.DataSource.CreateCommand($"""
            CREATE FUNCTION bump_tally() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.grain_key = '{key}' THEN RETURN NULL; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER bump_tally BEFORE UPDATE ON silo_grain_state FOR EACH ROW EXECUTE FUNCTION bump_tally();
            """))
        {
            await trigger.ExecuteNonQueryAsync();
        }

        try
        {
            await Assert.ThrowsAsync<StateConflictException>(() => tally.Add(2).WaitAsync(TestSilo.Timeout));
            Assert.Equal(1, await tally.Committed());
        }
        finally
        {
            await using var drop = fixture.Database.Silo.DataSource.CreateCommand("DROP TRIGGER bump_tally ON silo_grain_state; DROP FUNCTION bump_tally()");
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task Reads_SeeTheCommittedState_NotAChangeStillBeingWritten()
    {
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(NewKey());
        await tally.Add(1).WaitAsync(TestSilo.Timeout);
        await using var hold = await fixture.HoldCommitterAsync();

        var adding = tally.Add(5);
        await fixture.WaitForQueuedWritesAsync(1);
        Assert.Equal(1, await tally.Committed().WaitAsync(TestSilo.Timeout));
        await hold.ReleaseAsync();

        Assert.Equal(6, await adding.WaitAsync(TestSilo.Timeout));
        Assert.Equal(6, await tally.Committed());
    }

    private static string NewKey() => Guid.NewGuid().ToString("N");

    /// <summary>A tally that committed 1 (version 1), then had another writer store 100 at version 9 behind its back.</summary>
    private async Task<(string Key, IBatchedTallyGrain Tally)> OvertakenByAnotherWriterAsync()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<IBatchedTallyGrain>(key);
        await tally.Add(1).WaitAsync(TestSilo.Timeout);
        await fixture.SetStoredAsync(BatchedTallyGrain.StateName, key, version: 9, total: 100);
        return (key, tally);
    }
}
