using System.Text;
using MyPay.Silo.Grains;
using MyPay.Silo.Storage;
using MyPay.Silo.Storage.Postgres;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests;

/// <summary>
/// The contract of <see cref="IGrainStorage"/>: conditional writes on a version, operation keys recorded
/// once and atomically with their write. Every provider runs the same tests; the derived classes below
/// supply one.
/// </summary>
public abstract class GrainStorageContractTests
{
    /// <summary>The storage under test.</summary>
    protected abstract IGrainStorage Storage { get; }

    /// <summary>The same stored data as seen by a second node (for memory, the same instance).</summary>
    protected abstract IGrainStorage OtherNode { get; }

    [Fact]
    public async Task ReadAsync_OfAGrainNeverWritten_ReturnsNull()
    {
        Assert.Null(await Storage.ReadAsync(NewGrain(), CancellationToken.None).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task ReadOperationAsync_OfAnUnknownKey_ReturnsNull()
    {
        var grain = NewGrain();
        await WriteAsync(grain, 0, "a", Operation("known"));

        Assert.Null(await Storage.ReadOperationAsync(grain, "unknown", CancellationToken.None).WaitAsync(TestSilo.Timeout));
        Assert.Null(await Storage.ReadOperationAsync(NewGrain(), "known", CancellationToken.None).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task FirstWrite_WithExpectedVersionZero_CommitsVersionOne()
    {
        var grain = NewGrain();

        var outcome = await WriteAsync(grain, 0, """{"value":1}""");

        Assert.Equal(WriteOutcome.CommittedAt(1), outcome);
        await AssertStoredAsync(grain, 1, """{"value":1}""");
    }

    [Fact]
    public async Task Write_WithTheStoredVersion_CommitsTheNextVersion()
    {
        var grain = NewGrain();
        await WriteAsync(grain, 0, "first");

        Assert.Equal(WriteOutcome.CommittedAt(2), await WriteAsync(grain, 1, "second"));
        Assert.Equal(WriteOutcome.CommittedAt(3), await WriteAsync(grain, 2, "third"));

        await AssertStoredAsync(grain, 3, "third");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Write_WithAVersionOtherThanTheStoredOne_ConflictsAndChangesNothing(long expectedVersion)
    {
        var grain = NewGrain();
        await WriteAsync(grain, 0, "first");
        await WriteAsync(grain, 1, "second");

        var outcome = await WriteAsync(grain, expectedVersion, "stale", Operation("stale-op"));

        Assert.Equal(WriteStatus.VersionConflict, outcome.Status);
        await AssertStoredAsync(grain, 2, "second");
        Assert.Null(await Storage.ReadOperationAsync(grain, "stale-op", CancellationToken.None).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task Write_WithAVersionForAGrainNeverWritten_ConflictsAndCreatesNothing()
    {
        var grain = NewGrain();

        Assert.Equal(WriteStatus.VersionConflict, (await WriteAsync(grain, 1, "phantom")).Status);

        Assert.Null(await Storage.ReadAsync(grain, CancellationToken.None).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task FirstWrites_RacingFromTwoNodes_OneCommitsAndTheOtherConflicts()
    {
        var grains = Enumerable.Range(0, 50).Select(_ => NewGrain()).ToList();

        var rounds = await Task.WhenAll(grains.Select(async grain =>
        {
            var outcomes = await Task.WhenAll(
                Task.Run(() => WriteAsync(Storage, grain, 0, "one")),
                Task.Run(() => WriteAsync(OtherNode, grain, 0, "two")));
            return (Grain: grain, Outcomes: outcomes);
        })).WaitAsync(TestSilo.Timeout);

        foreach (var (grain, outcomes) in rounds)
        {
            Assert.Single(outcomes, outcome => outcome == WriteOutcome.CommittedAt(1));
            Assert.Single(outcomes, outcome => outcome.Status == WriteStatus.VersionConflict);
            var winner = outcomes[0].Status == WriteStatus.Committed ? "one" : "two";
            await AssertStoredAsync(grain, 1, winner);
        }
    }

    [Fact]
    public async Task Writes_RacingOnOneVersion_ExactlyOneCommits()
    {
        var grain = NewGrain();
        await WriteAsync(grain, 0, "first");

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            Task.Run(() => WriteAsync(i % 2 == 0 ? Storage : OtherNode, grain, 1, $"writer-{i}", Operation($"op-{i}"))))).WaitAsync(TestSilo.Timeout);

        var winner = Assert.Single(Enumerable.Range(0, 10), i => outcomes[i].Status == WriteStatus.Committed);
        Assert.Equal(WriteOutcome.CommittedAt(2), outcomes[winner]);
        Assert.All(outcomes.Where((_, i) => i != winner), outcome => Assert.Equal(WriteStatus.VersionConflict, outcome.Status));
        await AssertStoredAsync(grain, 2, $"writer-{winner}");
        for (var i = 0; i < 10; i++)
        {
            var recorded = await Storage.ReadOperationAsync(grain, $"op-{i}", CancellationToken.None).WaitAsync(TestSilo.Timeout);
            Assert.Equal(i == winner, recorded is not null);
        }
    }

    [Fact]
    public async Task Write_WithOperationKeys_RecordsEachWithItsHashAndResult()
    {
        var grain = NewGrain();

        await WriteAsync(grain, 0, "a", Operation("k1", "hash-1", "result-1"), Operation("k2", "hash-2", "result-2"));

        var first = await Storage.ReadOperationAsync(grain, "k1", CancellationToken.None).WaitAsync(TestSilo.Timeout);
        var second = await OtherNode.ReadOperationAsync(grain, "k2", CancellationToken.None).WaitAsync(TestSilo.Timeout);
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Equal(("hash-1", "result-1"), (first.RequestHash, Encoding.UTF8.GetString(first.Result)));
        Assert.Equal(("hash-2", "result-2"), (second.RequestHash, Encoding.UTF8.GetString(second.Result)));
    }

    [Fact]
    public async Task Write_ReusingARecordedOperationKey_IsADuplicateAndChangesNothing()
    {
        var grain = NewGrain();
        await WriteAsync(grain, 0, "first", Operation("k1", "hash-1", "result-1"));

        // The version is right: only the key is repeated. The write's other key must not be recorded either.
        var outcome = await WriteAsync(grain, 1, "second", Operation("k2", "hash-2", "result-2"), Operation("k1", "hash-x", "result-x"));

        Assert.Equal(WriteStatus.DuplicateOperation, outcome.Status);
        await AssertStoredAsync(grain, 1, "first");
        var recorded = await Storage.ReadOperationAsync(grain, "k1", CancellationToken.None).WaitAsync(TestSilo.Timeout);
        Assert.NotNull(recorded);
        Assert.Equal(("hash-1", "result-1"), (recorded.RequestHash, Encoding.UTF8.GetString(recorded.Result)));
        Assert.Null(await Storage.ReadOperationAsync(grain, "k2", CancellationToken.None).WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task OperationKeys_AreScopedToTheirGrain()
    {
        var grain = NewGrain();
        var other = NewGrain();
        await WriteAsync(grain, 0, "a", Operation("shared-key"));

        Assert.Equal(WriteOutcome.CommittedAt(1), await WriteAsync(other, 0, "b", Operation("shared-key")));
    }

    [Fact]
    public async Task Payloads_AreCopied_SoChangingAnArrayAfterwardsChangesNothingStored()
    {
        var grain = NewGrain();
        var written = Encoding.UTF8.GetBytes("original");
        await Storage.WriteAsync(new StateWrite(grain, 0, written, []), CancellationToken.None).WaitAsync(TestSilo.Timeout);
        written[0] = (byte)'X';

        var read = await Storage.ReadAsync(grain, CancellationToken.None).WaitAsync(TestSilo.Timeout);
        Assert.NotNull(read);
        read.Payload[1] = (byte)'X';

        await AssertStoredAsync(grain, 1, "original");
    }

    [Fact]
    public async Task Write_RepeatingAnOperationKeyWithinItself_IsRefusedAndChangesNothing()
    {
        // Invalid input: one write carrying one key twice. Whether refused with an exception or an outcome,
        // the write is one atomic step, so nothing of it may be stored.
        var grain = NewGrain();
        await WriteAsync(grain, 0, "first");

        WriteOutcome? outcome = null;
        try
        {
            outcome = await WriteAsync(grain, 1, "second", Operation("k1", "hash-1", "result-1"), Operation("k1", "hash-2", "result-2"));
        }
        catch (Exception exception) when (exception is not TimeoutException)
        {
            // Refusing with an exception is acceptable; what was stored is checked below.
        }

        Assert.NotEqual(WriteStatus.Committed, outcome?.Status);
        await AssertStoredAsync(grain, 1, "first");
        Assert.Null(await Storage.ReadOperationAsync(grain, "k1", CancellationToken.None).WaitAsync(TestSilo.Timeout));
    }

    protected static GrainId NewGrain() => new("contract", Guid.NewGuid().ToString("N"));

    protected static OperationRecord Operation(string id, string requestHash = "hash", string result = "result") =>
        new(id, requestHash, Encoding.UTF8.GetBytes(result));

    private Task<WriteOutcome> WriteAsync(GrainId grain, long expectedVersion, string payload, params OperationRecord[] operations) =>
        WriteAsync(Storage, grain, expectedVersion, payload, operations);

    private static Task<WriteOutcome> WriteAsync(IGrainStorage storage, GrainId grain, long expectedVersion, string payload, params OperationRecord[] operations) =>
        storage.WriteAsync(new StateWrite(grain, expectedVersion, Encoding.UTF8.GetBytes(payload), operations), CancellationToken.None)
            .WaitAsync(TestSilo.Timeout);

    private async Task AssertStoredAsync(GrainId grain, long version, string payload)
    {
        foreach (var storage in new[] { Storage, OtherNode })
        {
            var stored = await storage.ReadAsync(grain, CancellationToken.None).WaitAsync(TestSilo.Timeout);
            Assert.NotNull(stored);
            Assert.Equal((version, payload), (stored.Version, Encoding.UTF8.GetString(stored.Payload)));
        }
    }
}

public sealed class MemoryGrainStorageContractTests : GrainStorageContractTests
{
    private readonly MemoryGrainStorage storage = new();

    protected override IGrainStorage Storage => storage;

    protected override IGrainStorage OtherNode => storage;
}

public sealed class PostgresGrainStorageContractTests(SiloDatabase database)
    : GrainStorageContractTests, IClassFixture<SiloDatabase>, IAsyncLifetime
{
    private readonly PostgresGrainStorage storage = new(database.DataSource, new PostgresStorageOptions());
    private readonly PostgresGrainStorage otherNode = new(database.DataSource, new PostgresStorageOptions());

    protected override IGrainStorage Storage => storage;

    protected override IGrainStorage OtherNode => otherNode;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await storage.DisposeAsync();
        await otherNode.DisposeAsync();
    }
}
