using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;
using MyPay.Silo.Storage;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests;

/// <summary>
/// Grains over storage, on each provider: idle collection and reactivation, versioned state shared by two
/// silos, and idempotent commands. Each test's silos share one store, as the nodes of a cluster share
/// one database.
/// </summary>
public abstract class GrainPersistenceTests
{
    protected abstract void AddStorage(IServiceCollection services);

    /// <summary>The stored state of a grain, read without any silo.</summary>
    protected abstract Task<StoredState?> ReadStoredAsync(GrainId grain);

    // --- Idle collection ------------------------------------------------------------------------------

    [Fact]
    public async Task CollectIdle_DeactivatesIdleGrains_AndTheNextCallReactivatesWithTheCommittedState()
    {
        var probe = new GrainProbe();
        await using var provider = BuildSilo(probe);
        var silo = provider.GetSilo();
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5).WaitAsync(TestSilo.Timeout);

        await silo.CollectIdleAsync(1);
        Assert.Equal(0, silo.ActivationCount);

        Assert.Equal(6, await counter.Increment().WaitAsync(TestSilo.Timeout));
        Assert.Equal(2, probe.Constructions);
        Assert.Equal(1, silo.ActivationCount);
        var stored = await ReadStoredAsync(counter.Id);
        Assert.NotNull(stored);
        Assert.Equal((2L, 6L), (stored.Version, stored.ToCounter().Value));
    }

    [Fact]
    public async Task PeriodicCollection_DeactivatesGrainsIdlePastTheCollectionAge()
    {
        var probe = new GrainProbe();
        await using var provider = BuildSilo(probe, options =>
        {
            options.CollectionAge = TimeSpan.FromMilliseconds(100);
            options.CollectionInterval = TimeSpan.FromMilliseconds(50);
        });
        var silo = provider.GetSilo();
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5).WaitAsync(TestSilo.Timeout);

        await WaitUntilAsync(() => silo.ActivationCount == 0);

        Assert.Equal(5, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        Assert.Equal(2, probe.Constructions);
    }

    [Fact]
    public async Task Reactivation_LoadsStateAnotherSiloWroteWhileTheGrainWasCollected()
    {
        // Proves the new activation reads storage: the value it finds was never in this silo's memory.
        await using var first = BuildSilo(new GrainProbe());
        await using var second = BuildSilo(new GrainProbe());
        var key = TestSilo.NewKey();
        await first.GetCounter(key).Add(5).WaitAsync(TestSilo.Timeout);
        await first.GetSilo().CollectIdleAsync(1);

        Assert.Equal(15, await second.GetCounter(key).Add(10).WaitAsync(TestSilo.Timeout));

        Assert.Equal(15, await first.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
    }

    // --- Versioned state -----------------------------------------------------------------------------

    [Fact]
    public async Task TenThousandIncrements_SplitAcrossTwoSilos_EndExact()
    {
        // Both silos hold an activation of the same key, so every turn races the other silo's writes.
        // An increment that exhausts its retries fails without effect; the total must match the successes exactly.
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
            try
            {
                await (i % 2 == 0 ? first : second).GetCounter(key).Increment();
                return true;
            }
            catch (StateConflictException)
            {
                return false;
            }
        });
        var succeeded = (await Task.WhenAll(calls).WaitAsync(TestSilo.Timeout)).Count(success => success);

        Assert.True(succeeded >= incrementCount * 9 / 10, $"Only {succeeded} of {incrementCount} increments succeeded.");
        Assert.True(probe.Applications > incrementCount, "No increment was re-applied: the silos never conflicted.");
        var stored = await ReadStoredAsync(TestSilo.CounterId(key));
        Assert.NotNull(stored);
        Assert.Equal(succeeded, stored.ToCounter().Value);
        await using var fresh = BuildSilo(new GrainProbe());
        Assert.Equal(succeeded, await fresh.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
        await first.GetSilo().CollectIdleAsync(1);
        Assert.Equal(succeeded, await first.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task Withdrawals_OnTwoSilosAtOnce_NeverSpendMoreThanTheBalance()
    {
        // 4,000 requested from a balance of 1,000, half through each silo. A stale silo's withdrawal loses
        // its write, is re-validated on the reloaded balance and may then be refused.
        var probe = new GrainProbe();
        Action<SiloOptions> retries = options => options.ConflictRetriesMax = 100;
        await using var first = BuildSilo(probe, retries);
        await using var second = BuildSilo(probe, retries);
        var key = TestSilo.NewKey();
        await first.GetCounter(key).Add(1_000).WaitAsync(TestSilo.Timeout);
        Assert.Equal(1_000, await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
        var applicationsBefore = probe.Applications;

        var calls = await TestSilo.SendConcurrentlyAsync(400, async i =>
        {
            try
            {
                return await (i % 2 == 0 ? first : second).GetCounter(key).Withdraw(10) ? "paid" : "refused";
            }
            catch (StateConflictException)
            {
                return "conflict";
            }
        });
        var outcomes = await Task.WhenAll(calls).WaitAsync(TestSilo.Timeout);

        Assert.Equal(100, outcomes.Count(outcome => outcome == "paid"));
        var stored = await ReadStoredAsync(TestSilo.CounterId(key));
        Assert.NotNull(stored);
        Assert.Equal(0, stored.ToCounter().Value);
        Assert.True(probe.Applications - applicationsBefore > 400, "No withdrawal was re-validated: the silos never conflicted.");
    }

    [Fact]
    public async Task StaleWrite_WithARetryLeft_IsReloadedRevalidatedAndCommitted()
    {
        var probe = new GrainProbe();
        await using var first = BuildSilo(probe, options => options.ConflictRetriesMax = 1);
        await using var second = BuildSilo(probe, options => options.ConflictRetriesMax = 1);
        var key = TestSilo.NewKey();
        await first.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await first.GetCounter(key).Increment().WaitAsync(TestSilo.Timeout);

        Assert.Equal(2, await second.GetCounter(key).Increment().WaitAsync(TestSilo.Timeout));

        Assert.Equal(3, probe.Applications); // the stale increment was applied twice, committed once
        var stored = await ReadStoredAsync(TestSilo.CounterId(key));
        Assert.NotNull(stored);
        Assert.Equal((2L, 2L), (stored.Version, stored.ToCounter().Value));
    }

    [Fact]
    public async Task StaleWrite_WithNoRetries_FailsWithStateConflict_AndTheNextCallReloads()
    {
        await using var first = BuildSilo(new GrainProbe(), options => options.ConflictRetriesMax = 0);
        await using var second = BuildSilo(new GrainProbe(), options => options.ConflictRetriesMax = 0);
        var key = TestSilo.NewKey();
        await first.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await first.GetCounter(key).Increment().WaitAsync(TestSilo.Timeout);

        var conflict = await Assert.ThrowsAsync<StateConflictException>(() => second.GetCounter(key).Add(10).WaitAsync(TestSilo.Timeout));

        Assert.Equal(TestSilo.CounterId(key), conflict.Grain);
        Assert.Equal(1, await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
        Assert.Equal(11, await second.GetCounter(key).Add(10).WaitAsync(TestSilo.Timeout));
        var stored = await ReadStoredAsync(TestSilo.CounterId(key));
        Assert.NotNull(stored);
        Assert.Equal((2L, 11L), (stored.Version, stored.ToCounter().Value));
    }

    [Fact]
    public async Task WriteStateAsync_OnStaleState_ThrowsStateConflict_AndTheNextCallReloads()
    {
        await using var first = BuildSilo(new GrainProbe());
        await using var second = BuildSilo(new GrainProbe());
        var key = TestSilo.NewKey();
        await first.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await first.GetCounter(key).AddAndWrite(1).WaitAsync(TestSilo.Timeout);

        await Assert.ThrowsAsync<StateConflictException>(() => second.GetCounter(key).AddAndWrite(10).WaitAsync(TestSilo.Timeout));

        Assert.Equal(1, await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
        Assert.Equal(11, await second.GetCounter(key).AddAndWrite(10).WaitAsync(TestSilo.Timeout));
        var stored = await ReadStoredAsync(TestSilo.CounterId(key));
        Assert.NotNull(stored);
        Assert.Equal((2L, 11L), (stored.Version, stored.ToCounter().Value));
    }

    // --- Idempotent commands -------------------------------------------------------------------------

    [Fact]
    public async Task Update_RepeatedWithTheSameOperationKey_AppliesOnceAndReturnsTheFirstResult()
    {
        var probe = new GrainProbe();
        await using var provider = BuildSilo(probe);
        var counter = provider.GetCounter(TestSilo.NewKey());
        var operation = new OperationKey("k1", "hashA");

        Assert.Equal(5, await counter.Add(5, operation).WaitAsync(TestSilo.Timeout));
        Assert.Equal(5, await counter.Add(5, operation).WaitAsync(TestSilo.Timeout));
        Assert.Equal(6, await counter.Increment().WaitAsync(TestSilo.Timeout));
        Assert.Equal(5, await counter.Add(5, operation).WaitAsync(TestSilo.Timeout));

        Assert.Equal(2, probe.Applications);
        var stored = await ReadStoredAsync(counter.Id);
        Assert.NotNull(stored);
        Assert.Equal((2L, 6L), (stored.Version, stored.ToCounter().Value));
    }

    [Fact]
    public async Task Update_ReusingAKeyForAnotherRequest_ThrowsOperationKeyReused_AndAppliesNothing()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout);

        var reused = await Assert.ThrowsAsync<OperationKeyReusedException>(
            () => counter.Add(7, new OperationKey("k1", "hashB")).WaitAsync(TestSilo.Timeout));

        Assert.Equal("k1", reused.OperationId);
        Assert.Equal(5, await counter.GetValue().WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task Update_With50ConcurrentCallsSharingAKey_AppliesOnce()
    {
        var probe = new GrainProbe();
        await using var provider = BuildSilo(probe);
        var key = TestSilo.NewKey();
        var operation = new OperationKey("k1", "hashA");

        var calls = await TestSilo.SendConcurrentlyAsync(50, _ => provider.GetCounter(key).Add(5, operation));

        Assert.All(await Task.WhenAll(calls).WaitAsync(TestSilo.Timeout), result => Assert.Equal(5, result));
        Assert.Equal(1, probe.Applications);
        Assert.Equal(5, await provider.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task Update_QueuedRepeatsOfAKeyInOneBatch_AreAppliedOnce()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        var (held, release) = await counter.HoldAsync();

        var queued = new[]
        {
            counter.Add(5, new OperationKey("k1", "hashA")),
            counter.Add(5, new OperationKey("k1", "hashA")),
            counter.Add(1, new OperationKey("k2", "hashA")),
            counter.Add(5, new OperationKey("k1", "hashA")),
        };
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        Assert.Equal(new long[] { 5, 5, 6, 5 }, await Task.WhenAll(queued).WaitAsync(TestSilo.Timeout));
        Assert.Equal(6, await counter.GetValue().WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task Update_RepeatedAfterReactivation_IsAnsweredFromStorageNotAppliedAgain()
    {
        var probe = new GrainProbe();
        await using var provider = BuildSilo(probe);
        var silo = provider.GetSilo();
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout);
        await counter.Increment().WaitAsync(TestSilo.Timeout);
        await silo.CollectIdleAsync(1);

        Assert.Equal(5, await counter.Add(5, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout));

        Assert.Equal(6, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        Assert.Equal(2, probe.Constructions);
        await silo.CollectIdleAsync(1);
        await Assert.ThrowsAsync<OperationKeyReusedException>(() => counter.Add(7, new OperationKey("k1", "hashB")).WaitAsync(TestSilo.Timeout));
        Assert.Equal(6, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        var stored = await ReadStoredAsync(counter.Id);
        Assert.NotNull(stored);
        Assert.Equal((2L, 6L), (stored.Version, stored.ToCounter().Value));
    }

    [Fact]
    public async Task Update_RepeatedAfterReactivation_WithNoConflictRetries_IsStillAnsweredFromStorage()
    {
        // A repeated key is not a version conflict: answering it from storage must not spend a conflict retry.
        await using var provider = BuildSilo(new GrainProbe(), options => options.ConflictRetriesMax = 0);
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout);
        await provider.GetSilo().CollectIdleAsync(1);

        Assert.Equal(5, await counter.Add(5, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout));

        Assert.Equal(5, await counter.GetValue().WaitAsync(TestSilo.Timeout));
    }

    [Fact]
    public async Task Update_RepeatedWithNoRecentOperationsKept_IsAnsweredFromStorage()
    {
        var probe = new GrainProbe();
        await using var provider = BuildSilo(probe, options => options.RecentOperationsPerActivation = 0);
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout);

        Assert.Equal(5, await counter.Add(5, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout));
        await Assert.ThrowsAsync<OperationKeyReusedException>(() => counter.Add(7, new OperationKey("k1", "hashB")).WaitAsync(TestSilo.Timeout));

        Assert.Equal(5, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        var stored = await ReadStoredAsync(counter.Id);
        Assert.NotNull(stored);
        Assert.Equal((1L, 5L), (stored.Version, stored.ToCounter().Value));
    }

    [Fact]
    public async Task Update_RepeatedOnAnotherSilo_IsAnsweredFromStorage()
    {
        await using var first = BuildSilo(new GrainProbe());
        await using var second = BuildSilo(new GrainProbe());
        var key = TestSilo.NewKey();
        await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout);
        await first.GetCounter(key).Add(5, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout);

        Assert.Equal(5, await second.GetCounter(key).Add(5, new OperationKey("k1", "hashA")).WaitAsync(TestSilo.Timeout));

        Assert.Equal(5, await second.GetCounter(key).GetValue().WaitAsync(TestSilo.Timeout));
        var stored = await ReadStoredAsync(TestSilo.CounterId(key));
        Assert.NotNull(stored);
        Assert.Equal((1L, 5L), (stored.Version, stored.ToCounter().Value));
    }

    [Fact]
    public async Task Update_WithAKeyWhoseCommandThrew_RecordsNothing_SoTheKeyCanBeUsedAgain()
    {
        await using var provider = BuildSilo(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        var operation = new OperationKey("k1", "hashA");

        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.AddThenThrow(5, operation).WaitAsync(TestSilo.Timeout));

        Assert.Equal(3, await counter.Add(3, operation).WaitAsync(TestSilo.Timeout));
        Assert.Equal(3, await counter.Add(3, operation).WaitAsync(TestSilo.Timeout));
        Assert.Equal(3, await counter.GetValue().WaitAsync(TestSilo.Timeout));
    }

    protected ServiceProvider BuildSilo(GrainProbe probe, Action<SiloOptions>? configure = null) =>
        TestSilo.Build(AddStorage, probe, configure);

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

public sealed class MemoryGrainPersistenceTests : GrainPersistenceTests
{
    // One store for every silo of a test, as one database serves every node.
    private readonly MemoryGrainStorage storage = new();

    protected override void AddStorage(IServiceCollection services) => services.AddSingleton<IGrainStorage>(storage);

    protected override Task<StoredState?> ReadStoredAsync(GrainId grain) => storage.ReadAsync(grain, CancellationToken.None);
}

public sealed class PostgresGrainPersistenceTests(SiloDatabase database) : GrainPersistenceTests, IClassFixture<SiloDatabase>
{
    protected override void AddStorage(IServiceCollection services) =>
        services.AddPostgresGrainStorage($"{database.ConnectionString};Maximum Pool Size=20");

    protected override Task<StoredState?> ReadStoredAsync(GrainId grain) => database.ReadStateAsync(grain);
}
