using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Storage;
using MyPay.Silo.Tests.Support;
using InconsistentStateException = Orleans.Storage.InconsistentStateException;

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

        await using var hold = await fixture.HoldCommitterAsync();
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
        // One batch, its records handed to the writer twice: the one-round-trip attempt with every write's, refused for the
        // stale one, then the careful way with the others'.
        Assert.Equal(callsBefore + 2, writer.Calls);
    }

    [Fact]
    public async Task EventsOfAWrite_AreStoredOnlyIfItCommits_NumberedInTheirStream_InCommitOrder()
    {
        var key = NewKey();
        var tally = fixture.Grains.GetGrain<ITallyGrain>(key);
        Assert.Equal(5, await tally.AddAndPublish(5).WaitAsync(TestSilo.Timeout));
        Assert.Equal(12, await tally.AddAndPublish(7).WaitAsync(TestSilo.Timeout));

        await SetStoredAsync(key, version: 5, total: 50);
        await Assert.ThrowsAsync<InconsistentStateException>(() => tally.AddAndPublish(1).WaitAsync(TestSilo.Timeout));

        await using var command = Database.Silo.DataSource.CreateCommand(
            "SELECT event_id, sequence, payload->>'total', type FROM outbox_event WHERE stream_key = @stream ORDER BY tx, position");
        command.Parameters.AddWithValue("stream", $"tally:{key}");
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<(string, long, string, string)>();
        while (await reader.ReadAsync())
        {
            events.Add((reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3)));
        }

        Assert.Equal([($"tally.added:{key}:5", 1L, "5", "tally.added"), ($"tally.added:{key}:12", 2L, "12", "tally.added")], events);
    }

    [Fact]
    public async Task AProviderWithACommitterOfItsOwn_CommitsItsStateAndRecords_WhileTheDefaultCommitterIsHeld()
    {
        var key = NewKey();
        await using var hold = await fixture.HoldCommitterAsync();
        var heldAdd = fixture.Grains.GetGrain<ITallyGrain>(key).Add(1);
        await WaitForQueuedWritesAsync(1);

        Assert.Equal(5, await fixture.Grains.GetGrain<ISideTallyGrain>(key).Add(5).WaitAsync(TestSilo.Timeout));

        Assert.False(heldAdd.IsCompleted);
        await fixture.AssertStoredAsync(SideTallyGrain.StateName, key, version: 1, total: 5);
        Assert.Equal([new TestRecord(key, 5, 5)], await Database.ReadRecordsAsync(key));
        await hold.ReleaseAsync();
        Assert.Equal(1, await heldAdd.WaitAsync(TestSilo.Timeout));
        Assert.Equal([new TestRecord(key, 5, 5), new TestRecord(key, 1, 1)], await Database.ReadRecordsAsync(key));
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

    private Task AssertStoredAsync(string key, long version, long total) => fixture.AssertStoredAsync(TallyGrain.StateName, key, version, total);

    private Task SetStoredAsync(string key, long version, long total) => fixture.SetStoredAsync(TallyGrain.StateName, key, version, total);

    private Task WaitForQueuedWritesAsync(int count) => fixture.WaitForQueuedWritesAsync(count);
}
