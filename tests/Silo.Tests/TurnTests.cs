using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Storage;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests;

/// <summary>Turn-based execution: one message at a time per activation, in arrival order, and a failed turn harms only its caller.</summary>
public sealed class TurnTests
{
    [Fact]
    public async Task Calls_Under200ConcurrentCallers_RunOneTurnAtATime()
    {
        // Each call's turn awaits inside: if two turns ever overlapped, the probe would see two in a turn at once.
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);
        var key = TestSilo.NewKey();

        var calls = await TestSilo.SendConcurrentlyAsync(200, _ => provider.GetCounter(key).ProbeCall());
        await Task.WhenAll(calls).WaitAsync(TestSilo.Timeout);

        Assert.Equal(1, probe.MaxInTurn);
    }

    [Fact]
    public async Task CommandsReadsAndCalls_Interleaved_NeverOverlap()
    {
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe);
        var key = TestSilo.NewKey();

        var calls = await TestSilo.SendConcurrentlyAsync(600, i => (i % 3) switch
        {
            0 => provider.GetCounter(key).ProbeCommand(),
            1 => provider.GetCounter(key).ProbeRead(),
            _ => provider.GetCounter(key).ProbeCall(),
        });
        await Task.WhenAll(calls).WaitAsync(TestSilo.Timeout);

        Assert.Equal(1, probe.MaxInTurn);
    }

    [Fact]
    public async Task MessagesFromOneCaller_RunInTheOrderTheyWereSent()
    {
        // Commands and asynchronous calls, sent from one thread without awaiting in between, each append their number.
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());

        var sent = Enumerable.Range(0, 300).Select(i => i % 5 == 0 ? counter.AppendInCall(i) : counter.Append(i)).ToList();
        var results = await Task.WhenAll(sent).WaitAsync(TestSilo.Timeout);

        Assert.Equal(Enumerable.Range(0, 300), await counter.GetLog().WaitAsync(TestSilo.Timeout));
        Assert.Equal(Enumerable.Range(1, 300), results);
    }

    [Fact]
    public async Task QueuedCommands_AreAppliedInOneTurnAndCommittedWithOneWrite()
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Increment().WaitAsync(TestSilo.Timeout);
        var (held, release) = await counter.HoldAsync();

        var queued = Enumerable.Range(0, 10).Select(_ => counter.Increment()).ToList();
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        Assert.Equal(Enumerable.Range(2, 10).Select(i => (long)i), await Task.WhenAll(queued).WaitAsync(TestSilo.Timeout));
        var stored = await ReadStoredAsync(provider, counter);
        Assert.Equal(2, stored.Version);
        Assert.Equal(11, stored.ToCounter().Value);
    }

    [Fact]
    public async Task CommandsPerTurnMax_LimitsHowManyCommandsShareAWrite()
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe(), options => options.CommandsPerTurnMax = 4);
        var counter = provider.GetCounter(TestSilo.NewKey());
        var (held, release) = await counter.HoldAsync();

        var queued = Enumerable.Range(0, 10).Select(_ => counter.Increment()).ToList();
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);
        await Task.WhenAll(queued).WaitAsync(TestSilo.Timeout);

        // Ten commands at four per turn: turns of 4, 4 and 2, one write each.
        var stored = await ReadStoredAsync(provider, counter);
        Assert.Equal(3, stored.Version);
        Assert.Equal(10, stored.ToCounter().Value);
    }

    [Fact]
    public async Task Command_ThatThrowsAfterChangingState_FailsItsCallerAndLeavesNoTrace()
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5).WaitAsync(TestSilo.Timeout);

        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.AddThenThrow(100).WaitAsync(TestSilo.Timeout));

        Assert.Equal(5, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        Assert.Equal(6, await counter.Increment().WaitAsync(TestSilo.Timeout));
        var stored = await ReadStoredAsync(provider, counter);
        Assert.Equal(6, stored.ToCounter().Value);
        Assert.Equal(2, stored.Version);
    }

    [Fact]
    public async Task Command_ThatThrows_DoesNotFailOrUndoTheCommandsOfItsTurn()
    {
        // Three commands queue behind a held turn and so run in one turn; the middle one throws halfway.
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5).WaitAsync(TestSilo.Timeout);
        var (held, release) = await counter.HoldAsync();

        var before = counter.Add(1);
        var failing = counter.AddThenThrow(100);
        var after = counter.Add(2);
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        Assert.Equal(6, await before.WaitAsync(TestSilo.Timeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(TestSilo.Timeout));
        Assert.Equal(8, await after.WaitAsync(TestSilo.Timeout));
        Assert.Equal(8, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        var stored = await ReadStoredAsync(provider, counter);
        Assert.Equal(8, stored.ToCounter().Value);
        Assert.Equal(2, stored.Version); // the two batch-mates were committed together, with one write
    }

    [Fact]
    public async Task Call_ThatThrowsAfterChangingState_IsUndoneAndTheNextCallRuns()
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5).WaitAsync(TestSilo.Timeout);

        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.AddThenThrowAsync(100).WaitAsync(TestSilo.Timeout));

        Assert.Equal(5, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        Assert.Equal(8, await counter.AddAndWrite(3).WaitAsync(TestSilo.Timeout));
        var stored = await ReadStoredAsync(provider, counter);
        Assert.Equal(8, stored.ToCounter().Value);
        Assert.Equal(2, stored.Version);
    }

    [Fact]
    public async Task Read_ThatThrows_FailsOnlyItsCaller()
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe());
        var counter = provider.GetCounter(TestSilo.NewKey());
        await counter.Add(5).WaitAsync(TestSilo.Timeout);
        var (held, release) = await counter.HoldAsync();

        var before = counter.GetValue();
        var failing = counter.GetThenThrow();
        var after = counter.GetValue();
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        Assert.Equal(5, await before.WaitAsync(TestSilo.Timeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(TestSilo.Timeout));
        Assert.Equal(5, await after.WaitAsync(TestSilo.Timeout));
        Assert.Equal(6, await counter.Increment().WaitAsync(TestSilo.Timeout));
    }

    private static async Task<StoredState> ReadStoredAsync(IServiceProvider provider, Support.ICounterGrain counter) =>
        await provider.GetRequiredService<IGrainStorage>().ReadAsync(counter.Id, CancellationToken.None)
        ?? throw new InvalidOperationException($"Grain {counter.Id} has no stored state.");
}
