using MyPay.Silo.Grains;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests;

/// <summary>A full mailbox refuses new messages at once instead of queueing without bound.</summary>
public sealed class MailboxTests
{
    [Fact]
    public async Task Send_ToAFullMailbox_FailsWithGrainOverloaded_AndTheGrainServesAgainOnceDrained()
    {
        var probe = new GrainProbe();
        await using var provider = TestSilo.BuildInMemory(probe, options => options.MailboxCapacity = 2);
        var counter = provider.GetCounter(TestSilo.NewKey());
        var (held, release) = await counter.HoldAsync();

        // The running turn has left the mailbox: two more commands or calls fit, a third does not.
        var queued = new[] { counter.Increment(), counter.Increment() };
        var overloaded = await Assert.ThrowsAsync<GrainOverloadedException>(async () => await counter.Increment());
        await Assert.ThrowsAsync<GrainOverloadedException>(async () => await counter.AddAndWrite(1));
        Assert.Equal(counter.Id, overloaded.Grain);

        // Reads are never refused: they cost no storage and a read turn answers a whole run of them.
        var reads = Enumerable.Range(0, 1_000).Select(_ => counter.GetValue()).ToList();

        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);
        Assert.Equal(new long[] { 1, 2 }, await Task.WhenAll(queued).WaitAsync(TestSilo.Timeout));
        Assert.All(await Task.WhenAll(reads).WaitAsync(TestSilo.Timeout), value => Assert.Equal(2, value));
        Assert.Equal(2, await counter.GetValue().WaitAsync(TestSilo.Timeout));
        Assert.Equal(3, await counter.Increment().WaitAsync(TestSilo.Timeout));
        Assert.Equal(3, probe.Applications); // the refused increment never ran
    }

    [Fact]
    public async Task Send_ToAFullMailbox_DoesNotAffectOtherGrains()
    {
        await using var provider = TestSilo.BuildInMemory(new GrainProbe(), options => options.MailboxCapacity = 1);
        var busy = provider.GetCounter(TestSilo.NewKey());
        var (held, release) = await busy.HoldAsync();
        var queued = busy.Increment();
        await Assert.ThrowsAsync<GrainOverloadedException>(async () => await busy.Increment());

        var other = provider.GetCounter(TestSilo.NewKey());
        Assert.Equal(1, await other.Increment().WaitAsync(TestSilo.Timeout));
        Assert.Equal(2, await other.Increment().WaitAsync(TestSilo.Timeout));

        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);
        Assert.Equal(1, await queued.WaitAsync(TestSilo.Timeout));
    }
}
