using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Storage;
using MyPay.Silo.Tests.Support;
using InconsistentStateException = Orleans.Storage.InconsistentStateException;
using StorageId = MyPay.Silo.Grains.GrainId;

namespace MyPay.Silo.Tests.OrleansStorage;

/// <summary>
/// The Orleans storage provider over MyPay's group commit, on a real PostgreSQL database: grains written through
/// Orleans' <c>IPersistentState</c> keep the guarantees of the store — a version check on every write, records and
/// operation keys in the transaction of the state and only if it commits, one commit for many grains with a stale
/// one failing alone.
/// </summary>
public sealed class GroupCommitGrainStorageTests(OrleansStorageCluster fixture) : IClassFixture<OrleansStorageCluster>
{
    private RecordDatabase Database => fixture.Database;

    [Fact]
    public async Task WriteStateAsync_StoresTheStateAndItsRecords_WithOneVersionPerWrite()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<ITallyGrain>(key);

        Assert.Equal(5, await tally.Add(5).WaitAsync(TestSilo.Timeout));
        Assert.Equal(12, await tally.Add(7).WaitAsync(TestSilo.Timeout));

        await AssertStoredAsync(key, version: 2, total: 12);
        Assert.Equal([new TestRecord(key, 5, 5), new TestRecord(key, 7, 12)], await Database.ReadRecordsAsync(key));
    }

    [Fact]
    public async Task ReadStateAsync_AfterAnotherWriter_LoadsTheStoredStateAndVersion()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<ITallyGrain>(key);
        await tally.Add(5).WaitAsync(TestSilo.Timeout);

        await SetStoredAsync(key, version: 7, total: 40);
        await tally.Reload().WaitAsync(TestSilo.Timeout);

        Assert.Equal(40, await tally.Total());
        Assert.Equal(41, await tally.Add(1).WaitAsync(TestSilo.Timeout));
        await AssertStoredAsync(key, version: 8, total: 41);
    }

    [Fact]
    public async Task WriteStateAsync_OnAStaleVersion_ThrowsInconsistentState_AndStoresNeitherStateNorRecord()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<ITallyGrain>(key);
        await tally.Add(5).WaitAsync(TestSilo.Timeout);

        // Another activation (on another node, say) wrote version 2 meanwhile.
        await SetStoredAsync(key, version: 2, total: 100);

        await Assert.ThrowsAsync<InconsistentStateException>(() => tally.Add(1).WaitAsync(TestSilo.Timeout));

        await AssertStoredAsync(key, version: 2, total: 100);
        Assert.Equal([new TestRecord(key, 5, 5)], await Database.ReadRecordsAsync(key));
        Assert.Equal(101, await tally.Add(1).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task WritesQueuedTogether_CommitInOneBatch_AndAStaleOneFailsAlone()
    {
        var keys = Enumerable.Range(0, 8).Select(_ => NewKey()).ToList();
        foreach (var key in keys)
        {
            await fixture.Grains.GetGrain<ITallyGrain>(key).Add(1).WaitAsync(TestSilo.Timeout);
        }

        var stale = keys[3];
        await SetStoredAsync(stale, version: 5, total: 50);
        var writer = fixture.SiloServices.GetServices<IRecordWriter>().OfType<TestRecordWriter>().Single();

        await using var hold = await CommitterHold.StartAsync(Database.Silo, fixture.SiloServices.GetRequiredService<IGrainStorage>());
        var callsBefore = writer.Calls;
        var adds = keys.Select(key => fixture.Grains.GetGrain<ITallyGrain>(key).Add(10)).ToList();
        await WaitForQueuedWritesAsync(keys.Count);
        await hold.ReleaseAsync();

        await Assert.ThrowsAsync<InconsistentStateException>(() => adds[3].WaitAsync(TestSilo.Timeout));
        foreach (var (key, add) in keys.Zip(adds).Where(pair => pair.First != stale))
        {
            Assert.Equal(11, await add.WaitAsync(TestSilo.Timeout));
            await AssertStoredAsync(key, version: 2, total: 11);
            Assert.Equal([new TestRecord(key, 1, 1), new TestRecord(key, 10, 11)], await Database.ReadRecordsAsync(key));
        }

        await AssertStoredAsync(stale, version: 5, total: 50);
        Assert.Equal([new TestRecord(stale, 1, 1)], await Database.ReadRecordsAsync(stale));
        Assert.Equal(callsBefore + 1, writer.Calls);
    }

    [Fact]
    public async Task WriteStateAsync_WithARecordedOperationKey_ThrowsDuplicateOperation_AndTheFirstResultStaysReadable()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<ITallyGrain>(key);

        Assert.Equal(5, await tally.AddOnce(5, "op-1").WaitAsync(TestSilo.Timeout));
        var repeat = await Assert.ThrowsAsync<DuplicateOperationException>(() => tally.AddOnce(5, "op-1").WaitAsync(TestSilo.Timeout));

        Assert.Equal(["op-1"], repeat.OperationIds);
        Assert.Equal("5", await tally.RecordedResult("op-1"));
        Assert.Null(await tally.RecordedResult("op-2"));
        await AssertStoredAsync(key, version: 1, total: 5);
        Assert.Equal(5, await tally.Total());
    }

    [Fact]
    public async Task TwoGrainTypes_WithOneStateName_AreRefused_RatherThanSharingRows()
    {
        var key = NewKey();
        await fixture.Grains.GetGrain<ITallyGrain>(key).Add(1).WaitAsync(TestSilo.Timeout);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Grains.GetGrain<ISameStateNameGrain>(key).Total().WaitAsync(TestSilo.Timeout));

        Assert.Contains("collide", refused.ToString(), StringComparison.Ordinal);
    }

    private static string NewKey() => Guid.NewGuid().ToString("N");

    private async Task AssertStoredAsync(string key, long version, long total)
    {
        var stored = await Database.Silo.ReadStateAsync(new StorageId(TallyGrain.StateName, key));
        Assert.NotNull(stored);
        Assert.Equal(version, stored.Version);
        Assert.Equal(total, System.Text.Json.JsonDocument.Parse(stored.Payload).RootElement.GetProperty("total").GetInt64());
    }

    /// <summary>What another node's write would leave: a newer version and another total.</summary>
    private async Task SetStoredAsync(string key, long version, long total)
    {
        await using var command = Database.Silo.DataSource.CreateCommand(
            "UPDATE silo_grain_state SET version = @version, payload = convert_to(@payload, 'UTF8') WHERE grain_type = @type AND grain_key = @key");
        command.Parameters.AddWithValue("version", version);
        command.Parameters.AddWithValue("payload", $"{{\"total\":{total}}}");
        command.Parameters.AddWithValue("type", TallyGrain.StateName);
        command.Parameters.AddWithValue("key", key);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    /// <summary>Waits until the held committer's queue has the grains' writes: they reach the store asynchronously.</summary>
    private async Task WaitForQueuedWritesAsync(int count)
    {
        var queued = fixture.SiloServices.GetRequiredService<IGrainStorage>() is Storage.Postgres.PostgresGrainStorage postgres
            ? postgres
            : throw new InvalidOperationException("The silo's store is not the PostgreSQL one.");
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (queued.QueuedWrites < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Only {queued.QueuedWrites} of {count} writes reached the store within {TestSilo.Timeout}.");
            await Task.Delay(10);
        }
    }
}
