using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;
using MyPay.Silo.Migrations;
using MyPay.Silo.Reminders;
using MyPay.Silo.Storage;
using MyPay.Silo.Storage.Postgres;
using MyPay.Silo.Tests.Support;
using MyPay.Testing;
using Xunit.Abstractions;

namespace MyPay.Silo.Tests;

/// <summary>
/// Durable reminders on PostgreSQL: a reminder row exists exactly when the state write that set it committed; a due
/// tick is claimed under a lease by one node and delivered to its grain as a turn; a one-shot reminder is then deleted,
/// a periodic one moved to its next boundary after now, and a change the grain made during its own tick stands. Polls
/// are driven by hand (<see cref="ReminderService.FireDueAsync"/>) so each test decides when a tick may fire.
/// </summary>
public sealed class ReminderTests(SiloDatabase database, ITestOutputHelper output) : IClassFixture<SiloDatabase>, IAsyncLifetime
{
    private const string Name = "tick";

    private static readonly long[] SixCommandsWrites = [2, 3, 4, 5, 6, 7];
    private static readonly long[] BatchWrites = [1, 1, 2];

    // Every reminder service claims any due row of its database. Each test starts from an empty table, so a row an
    // earlier test left cannot be fired by, and counted in, this one's polls. Tests of one class never run at once.
    public Task InitializeAsync() => database.DeleteAllRemindersAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    // --- Firing -----------------------------------------------------------------------------------------

    [Fact]
    public async Task OneShotReminderDueNow_FiresOnceOnThePoll_AndItsRowIsDeleted()
    {
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        var dueAt = ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow);

        await grain.SetReminder(Name, dueAt).WaitAsync(TestSilo.Timeout);

        Assert.Equal(new StoredReminder(Name, dueAt.UtcDateTime, null, null, null), await database.ReadReminderAsync(grain.Id, Name));
        var service = provider.GetReminderService();
        Assert.Equal(1, await service.PollAsync());
        Assert.Equal(1, probe.Count(grain.Id.Key, Name));
        Assert.Empty(await database.ReadRemindersAsync(grain.Id));
        Assert.Equal(0, await service.PollAsync());
        Assert.Single(probe.Fired);
    }

    [Fact]
    public async Task HostedService_FiresAReminderDueSoon_NotBeforeItsDueTime_AndOnlyOnce()
    {
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe, options => options.PollInterval = TimeSpan.FromMilliseconds(50));
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        var dueAt = ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500));
        await grain.SetReminder(Name, dueAt).WaitAsync(TestSilo.Timeout);

        var service = provider.GetReminderService();
        await service.StartAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        try
        {
            await ReminderSilo.WaitUntilAsync(() => probe.Fired.Count > 0, "the hosted service to fire the reminder");

            // Stop only once the tick is complete: stopping cancels a poll in flight, and its tick would wait for its lease.
            await ReminderSilo.WaitUntilAsync(async () => (await database.ReadRemindersAsync(grain.Id)).Count == 0, "the fired reminder's row to be deleted");
        }
        finally
        {
            await service.StopAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        }

        var tick = Assert.Single(probe.Fired);
        Assert.True(tick.At >= dueAt, $"The reminder due at {dueAt:O} fired at {tick.At:O}.");
    }

    [Fact]
    public async Task ReminderDueLater_IsNotFiredByAPollBeforeItsTime()
    {
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        var dueAt = ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow + TimeSpan.FromHours(1));
        await grain.SetReminder(Name, dueAt).WaitAsync(TestSilo.Timeout);

        Assert.Equal(0, await provider.GetReminderService().PollAsync());

        Assert.Empty(probe.Fired);
        Assert.Equal(new StoredReminder(Name, dueAt.UtcDateTime, null, null, null), await database.ReadReminderAsync(grain.Id, Name));
    }

    // --- A reminder exists exactly when its write committed ----------------------------------------------

    [Fact]
    public async Task CommandOrCall_ThatSetsAReminderThenThrows_LeavesNoRow_AndTheNextWriteStoresOnlyItsOwn()
    {
        await using var provider = BuildSilo(new ReminderProbe());
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());

        await Assert.ThrowsAsync<InvalidOperationException>(() => grain.SetReminderThenThrow("in-command", DateTimeOffset.UtcNow).WaitAsync(TestSilo.Timeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() => grain.SetReminderInCallThenThrow("in-call", DateTimeOffset.UtcNow).WaitAsync(TestSilo.Timeout));

        Assert.Empty(await database.ReadRemindersAsync(grain.Id));
        Assert.Null(await database.ReadStateAsync(grain.Id));
        var later = ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow + TimeSpan.FromHours(1));
        await grain.SetReminder("later", later).WaitAsync(TestSilo.Timeout);
        Assert.Equal([new StoredReminder("later", later.UtcDateTime, null, null, null)], await database.ReadRemindersAsync(grain.Id));
    }

    [Fact]
    public async Task StaleCommand_ReappliedAfterAConflict_StoresOnlyTheReminderOfTheAttemptThatCommitted()
    {
        // Both silos activate the grain at version 0. The first sets n1, due in one hour. The second's first attempt, on
        // stale state, also names its reminder n1 (due in two hours) and loses the write; re-applied on the reloaded state
        // it sets n2. An n1 due in two hours would be the lost attempt's reminder, written over the committed one.
        await using var first = BuildSilo(new ReminderProbe(), silo: options => options.ConflictRetriesMax = 1);
        await using var second = BuildSilo(new ReminderProbe(), silo: options => options.ConflictRetriesMax = 1);
        var key = ReminderSilo.NewKey();
        await first.GetReminderGrain(key).GetTicksWritten().WaitAsync(TestSilo.Timeout);
        await second.GetReminderGrain(key).GetTicksWritten().WaitAsync(TestSilo.Timeout);
        var (firstDue, secondDue) = (InHours(1), InHours(2));

        Assert.Equal(1, await first.GetReminderGrain(key).SetNumberedReminder(firstDue).WaitAsync(TestSilo.Timeout));
        Assert.Equal(2, await second.GetReminderGrain(key).SetNumberedReminder(secondDue).WaitAsync(TestSilo.Timeout));

        Assert.Equal(
            [new StoredReminder("n1", firstDue.UtcDateTime, null, null, null), new StoredReminder("n2", secondDue.UtcDateTime, null, null, null)],
            await database.ReadRemindersAsync(first.GetReminderGrain(key).Id));
    }

    [Fact]
    public async Task StaleCommand_WithNoRetriesLeft_StoresNoReminder()
    {
        await using var first = BuildSilo(new ReminderProbe(), silo: options => options.ConflictRetriesMax = 0);
        await using var second = BuildSilo(new ReminderProbe(), silo: options => options.ConflictRetriesMax = 0);
        var key = ReminderSilo.NewKey();
        await first.GetReminderGrain(key).GetTicksWritten().WaitAsync(TestSilo.Timeout);
        await second.GetReminderGrain(key).GetTicksWritten().WaitAsync(TestSilo.Timeout);
        var (firstDue, secondDue) = (InHours(1), InHours(2));

        Assert.Equal(1, await first.GetReminderGrain(key).SetNumberedReminder(firstDue).WaitAsync(TestSilo.Timeout));
        await Assert.ThrowsAsync<StateConflictException>(() => second.GetReminderGrain(key).SetNumberedReminder(secondDue).WaitAsync(TestSilo.Timeout));

        Assert.Equal([new StoredReminder("n1", firstDue.UtcDateTime, null, null, null)], await database.ReadRemindersAsync(first.GetReminderGrain(key).Id));
    }

    [Fact]
    public async Task CommandsInOneTurn_ChangingOneReminderSeveralTimes_StoreOnlyTheLastChange()
    {
        // The commands drain into one turn and one write carrying every change; for each reminder the last one stands.
        await using var provider = BuildSilo(new ReminderProbe());
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        var (first, second, third) = (InHours(1), InHours(2), InHours(3));
        await grain.SetReminder("cleared-then-set", first).WaitAsync(TestSilo.Timeout);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = grain.Hold(started, release.Task);
        await started.Task.WaitAsync(TestSilo.Timeout);

        var queued = new[]
        {
            grain.SetReminder("set-twice", first),
            grain.SetReminder("set-twice", second, TimeSpan.FromSeconds(1)),
            grain.SetReminder("set-then-cleared", first),
            grain.ClearReminder("set-then-cleared"),
            grain.ClearReminder("cleared-then-set"),
            grain.SetReminder("cleared-then-set", third),
        };
        release.SetResult();
        await held.WaitAsync(TestSilo.Timeout);

        Assert.Equal(SixCommandsWrites, await Task.WhenAll(queued).WaitAsync(TestSilo.Timeout));
        Assert.Equal(
            [new StoredReminder("cleared-then-set", third.UtcDateTime, null, null, null), new StoredReminder("set-twice", second.UtcDateTime, 1000, null, null)],
            await database.ReadRemindersAsync(grain.Id));
        Assert.Equal(2, (await database.ReadStateAsync(grain.Id))?.Version);
    }

    [Fact]
    public async Task OneGroupCommitBatch_OfSeveralGrains_StoresEachGrainsSetOrClear()
    {
        // One committer held on a row lock, so the three grains' writes are taken into one transaction: a periodic set,
        // a one-shot set and a clear go through the reminder writer together.
        await using var storage = new PostgresGrainStorage(database.DataSource, new PostgresStorageOptions { ConcurrentCommits = 1 }, [new ReminderWriter()]);
        var counting = new CountingGrainStorage(storage);
        await using var provider = ReminderSilo.Build(services => services.AddSingleton<IGrainStorage>(counting), new ReminderProbe());
        var (periodic, oneShot, cleared) = (provider.GetReminderGrain(ReminderSilo.NewKey()), provider.GetReminderGrain(ReminderSilo.NewKey()), provider.GetReminderGrain(ReminderSilo.NewKey()));
        var (first, second) = (InHours(1), InHours(2));
        await cleared.SetReminder(Name, first).WaitAsync(TestSilo.Timeout);

        Task<long>[] batch;
        await using (var hold = await CommitterHold.StartAsync(database, storage))
        {
            var queuedBefore = counting.Writes;
            batch = [periodic.SetReminder(Name, first, TimeSpan.FromMinutes(1)), oneShot.SetReminder(Name, second), cleared.ClearReminder(Name)];
            await ReminderSilo.WaitUntilAsync(() => counting.Writes == queuedBefore + batch.Length, "the three writes to queue behind the held committer");
            await hold.ReleaseAsync();
        }

        Assert.Equal(BatchWrites, await Task.WhenAll(batch).WaitAsync(TestSilo.Timeout));
        Assert.Equal([new StoredReminder(Name, first.UtcDateTime, 60_000, null, null)], await database.ReadRemindersAsync(periodic.Id));
        Assert.Equal([new StoredReminder(Name, second.UtcDateTime, null, null, null)], await database.ReadRemindersAsync(oneShot.Id));
        Assert.Empty(await database.ReadRemindersAsync(cleared.Id));
    }

    // --- Periodic reminders ---------------------------------------------------------------------------------

    [Fact]
    public async Task PeriodicReminder_FiresAgainAtEachBoundary_AndStaysScheduled()
    {
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        var period = TimeSpan.FromMilliseconds(300);
        var firstDue = ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow);
        await grain.SetReminder(Name, firstDue, period).WaitAsync(TestSilo.Timeout);
        var service = provider.GetReminderService();

        var previousDue = firstDue.UtcDateTime;
        for (var tick = 1; tick <= 3; tick++)
        {
            await ReminderSilo.WaitUntilAsync(async () => await service.PollAsync() == 1, $"tick {tick} to fire");

            Assert.Equal(tick, probe.Count(grain.Id.Key, Name));
            var stored = await database.ReadReminderAsync(grain.Id, Name);
            Assert.NotNull(stored);
            Assert.Equal(((long?)300, (string?)null, (DateTime?)null), (stored.PeriodMs, stored.LeaseOwner, stored.LeaseUntil));
            Assert.True(stored.DueAt > previousDue, $"Tick {tick} left the reminder due at {stored.DueAt:O}, not after {previousDue:O}.");
            Assert.Equal(0, (stored.DueAt - firstDue.UtcDateTime).Ticks % period.Ticks);
            previousDue = stored.DueAt;
        }
    }

    [Fact]
    public async Task PeriodicReminder_AfterAnHourWithoutPolls_FiresOnce_AndMovesToTheFirstBoundaryAfterNow()
    {
        // Every node was down for an hour: 3,600 ticks of a one-second reminder were missed. One poll fires it once.
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        await grain.SetReminder(Name, InHours(1), TimeSpan.FromSeconds(1)).WaitAsync(TestSilo.Timeout);
        Assert.Equal(1, await database.UpdateReminderAsync(grain.Id, Name, "due_at = date_trunc('second', now()) - interval '1 hour'"));
        var missedSince = (await database.ReadReminderAsync(grain.Id, Name))!.DueAt;

        var before = await database.NowAsync();
        Assert.Equal(1, await provider.GetReminderService().PollAsync());
        var after = await database.NowAsync();

        Assert.Equal(1, probe.Count(grain.Id.Key, Name));
        var stored = await database.ReadReminderAsync(grain.Id, Name);
        Assert.NotNull(stored);
        Assert.True(stored.DueAt > before && stored.DueAt <= after + TimeSpan.FromSeconds(1),
            $"After the poll between {before:O} and {after:O}, the reminder is due at {stored.DueAt:O}: not the first boundary after now.");
        Assert.Equal(0, (stored.DueAt - missedSince).Ticks % TimeSpan.TicksPerSecond);
        Assert.Equal(((long?)1000, (string?)null), (stored.PeriodMs, stored.LeaseOwner));
    }

    // --- Several nodes, leases ----------------------------------------------------------------------------

    [Fact]
    public async Task TwoSilosPollingAtOnce_Fire200DueOneShotReminders_ExactlyOnceInTotal()
    {
        // Small claims, so each silo needs many polls and the two keep racing for the same due rows.
        var (firstProbe, secondProbe) = (new ReminderProbe(), new ReminderProbe());
        await using var first = BuildSilo(firstProbe, options => options.ClaimBatchMax = 20);
        await using var second = BuildSilo(secondProbe, options => options.ClaimBatchMax = 20);
        var keys = Enumerable.Range(0, 200).Select(_ => ReminderSilo.NewKey()).ToList();
        var dueAt = ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow);
        await Task.WhenAll(keys.Select(key => first.GetReminderGrain(key).SetReminder(Name, dueAt))).WaitAsync(TestSilo.Timeout);
        Assert.Equal(200L, await database.ScalarAsync<long>("SELECT count(*) FROM silo_reminder"));

        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        async Task<int> PollUntilAllFiredAsync(ReminderService service)
        {
            await go.Task;
            var fired = 0;
            while (firstProbe.Fired.Count + secondProbe.Fired.Count < keys.Count && DateTime.UtcNow < deadline)
            {
                var polled = await service.PollAsync();
                fired += polled;
                if (polled == 0)
                {
                    await Task.Delay(5);
                }
            }

            return fired;
        }

        var polls = new[] { first, second }.Select(provider => provider.GetReminderService()).Select(service => Task.Run(() => PollUntilAllFiredAsync(service))).ToList();
        go.SetResult();
        var firedBySilo = await Task.WhenAll(polls).WaitAsync(TestSilo.Timeout);
        output.WriteLine($"Ticks fired by each silo: {string.Join(", ", firedBySilo)}.");

        Assert.Equal(0, await first.GetReminderService().PollAsync());
        Assert.Equal(0, await second.GetReminderService().PollAsync());
        var notOnce = keys
            .Select(key => (Key: key, Fired: firstProbe.Count(key, Name) + secondProbe.Count(key, Name)))
            .Where(grain => grain.Fired != 1)
            .ToList();
        Assert.True(notOnce.Count == 0, $"{notOnce.Count} reminders did not fire exactly once, e.g. {string.Join(", ", notOnce.Take(5))}.");
        Assert.Equal(keys.Count, firedBySilo.Sum());
        Assert.Equal(keys.Count, firstProbe.Fired.Count + secondProbe.Fired.Count);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM silo_reminder"));
    }

    [Fact]
    public async Task TickLeasedByANodeThatDied_IsNotFiredWhileTheLeaseHolds_AndIsFiredByTheLiveNodeOnceItExpires()
    {
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        await grain.SetReminder(Name, ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow)).WaitAsync(TestSilo.Timeout);
        var service = provider.GetReminderService();

        // Another node claimed the tick, then died before completing it.
        Assert.Equal(1, await database.UpdateReminderAsync(grain.Id, Name, "lease_owner = 'dead-node', lease_until = now() + interval '1 hour'"));
        Assert.Equal(0, await service.PollAsync());
        Assert.Empty(probe.Fired);
        Assert.Equal("dead-node", (await database.ReadReminderAsync(grain.Id, Name))?.LeaseOwner);

        Assert.Equal(1, await database.UpdateReminderAsync(grain.Id, Name, "lease_until = now() - interval '1 second'"));
        Assert.Equal(1, await service.PollAsync());
        Assert.Equal(1, probe.Count(grain.Id.Key, Name));
        Assert.Empty(await database.ReadRemindersAsync(grain.Id));
    }

    [Fact]
    public async Task TickInFlight_IsLeasedToItsNodeForTheLease_AndAnotherSiloDoesNotFireIt()
    {
        var (firstProbe, secondProbe) = (new ReminderProbe(), new ReminderProbe());
        var lease = TimeSpan.FromMinutes(5);
        await using var first = BuildSilo(firstProbe, options => options.Lease = lease);
        await using var second = BuildSilo(secondProbe);
        var grain = first.GetReminderGrain(ReminderSilo.NewKey());
        await grain.SetReminder(Name, ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow)).WaitAsync(TestSilo.Timeout);
        var (started, release) = firstProbe.HoldNext(grain.Id.Key);
        try
        {
            var before = await database.NowAsync();
            var firing = first.GetReminderService().FireDueAsync(CancellationToken.None);
            await started.WaitAsync(TestSilo.Timeout);
            var leased = await database.ReadReminderAsync(grain.Id, Name);
            Assert.NotNull(leased?.LeaseOwner);
            Assert.True(leased.LeaseUntil >= before + lease, $"A tick claimed after {before:O} is leased only until {leased.LeaseUntil:O}.");

            Assert.Equal(0, await second.GetReminderService().PollAsync());

            release.SetResult();
            Assert.Equal(1, await firing.WaitAsync(TestSilo.Timeout));
        }
        finally
        {
            release.TrySetResult();
        }

        Assert.Equal(1, firstProbe.Count(grain.Id.Key, Name));
        Assert.Empty(secondProbe.Fired);
        Assert.Empty(await database.ReadRemindersAsync(grain.Id));
    }

    // --- Clearing and re-setting ------------------------------------------------------------------------------

    [Fact]
    public async Task ClearedPeriodicReminder_FiresNoMore()
    {
        // A one-millisecond period: had the reminder survived the clear, it would be due again at the next poll.
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        await grain.SetReminder(Name, ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow), TimeSpan.FromMilliseconds(1)).WaitAsync(TestSilo.Timeout);
        var service = provider.GetReminderService();
        Assert.Equal(1, await service.PollAsync());

        await grain.ClearReminder(Name).WaitAsync(TestSilo.Timeout);

        Assert.Empty(await database.ReadRemindersAsync(grain.Id));
        Assert.Equal(0, await service.PollAsync());
        Assert.Equal(1, probe.Count(grain.Id.Key, Name));
    }

    [Fact]
    public async Task PeriodicReminder_ClearedByItsOwnHandler_IsNotMovedOnByTheService_AndFiresNoMore()
    {
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        await grain.SetReminder(Name, ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow), TimeSpan.FromMilliseconds(1), TickAction.Clear).WaitAsync(TestSilo.Timeout);
        var service = provider.GetReminderService();

        Assert.Equal(1, await service.PollAsync());

        Assert.Equal(1, await grain.GetTicksWritten().WaitAsync(TestSilo.Timeout));
        Assert.Empty(await database.ReadRemindersAsync(grain.Id));
        Assert.Equal(0, await service.PollAsync());
        Assert.Equal(1, probe.Count(grain.Id.Key, Name));
    }

    [Fact]
    public async Task OneShotReminder_SetAgainIdenticallyByItsOwnHandler_IsKept_AndFiresAgain()
    {
        // The handler sets the reminder to exactly what it was (same due time, one-shot). Only the lease, which the
        // grain's write drops, tells the service's completion that the row it would delete is no longer its tick.
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        var dueAt = ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow);
        await grain.SetReminder(Name, dueAt, onTick: TickAction.SetAgain).WaitAsync(TestSilo.Timeout);
        var service = provider.GetReminderService();

        Assert.Equal(1, await service.PollAsync());

        Assert.Equal(1, await grain.GetTicksWritten().WaitAsync(TestSilo.Timeout));
        Assert.Equal(new StoredReminder(Name, dueAt.UtcDateTime, null, null, null), await database.ReadReminderAsync(grain.Id, Name));
        Assert.Equal(1, await service.PollAsync());
        Assert.Equal(2, probe.Count(grain.Id.Key, Name));
        Assert.Empty(await database.ReadRemindersAsync(grain.Id));
    }

    [Fact]
    public async Task PeriodicReminder_PostponedByItsOwnHandler_KeepsTheNewSetting()
    {
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        var dueAt = ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow);
        await grain.SetReminder(Name, dueAt, TimeSpan.FromMilliseconds(1), TickAction.Postpone).WaitAsync(TestSilo.Timeout);
        var service = provider.GetReminderService();

        Assert.Equal(1, await service.PollAsync());

        Assert.Equal(1, await grain.GetTicksWritten().WaitAsync(TestSilo.Timeout));
        Assert.Equal(
            new StoredReminder(Name, (dueAt + ReminderGrain.Postponement).UtcDateTime, null, null, null),
            await database.ReadReminderAsync(grain.Id, Name));
        Assert.Equal(0, await service.PollAsync());
        Assert.Equal(1, probe.Count(grain.Id.Key, Name));
    }

    // --- Liveness of the hosted service -------------------------------------------------------------------------

    [Fact]
    public async Task HandlerThatDoesNotComplete_DoesNotStopOtherGrainsRemindersOnTheNode()
    {
        // One grain's handler hangs (a bank that never answers). Another grain's reminder, due meanwhile, must still fire
        // within a bounded number of polls: in Orleans a slow grain delays only its own ticks. Bounded at 100 polls.
        var probe = new ReminderProbe();
        var pollInterval = TimeSpan.FromMilliseconds(50);
        await using var provider = BuildSilo(probe, options => options.PollInterval = pollInterval);
        var (stuck, other) = (provider.GetReminderGrain(ReminderSilo.NewKey()), provider.GetReminderGrain(ReminderSilo.NewKey()));
        var (started, release) = probe.HoldNext(stuck.Id.Key);
        await stuck.SetReminder(Name, ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow)).WaitAsync(TestSilo.Timeout);
        var service = provider.GetReminderService();
        await service.StartAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        try
        {
            await started.WaitAsync(TestSilo.Timeout);
            await other.SetReminder(Name, ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow)).WaitAsync(TestSilo.Timeout);

            var deadline = DateTime.UtcNow + (pollInterval * 100);
            while (probe.Count(other.Id.Key, Name) == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }

            Assert.True(
                probe.Count(other.Id.Key, Name) == 1,
                $"While one handler hung, another grain's due reminder did not fire within {pollInterval * 100}; its row: {await database.ReadReminderAsync(other.Id, Name)}.");
        }
        finally
        {
            release.TrySetResult();
            await service.StopAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        }
    }

    [Fact]
    public async Task GracefulStop_WhileAHandlerRuns_StillRecordsTheCompletedTick_SoItDoesNotFireAgain()
    {
        // The node is stopped (not crashed) while a handler runs; the handler then completes. Its tick is done and must be
        // recorded as done: left leased, it would fire again on another node when the lease runs out.
        var probe = new ReminderProbe();
        await using var provider = BuildSilo(probe, options => options.PollInterval = TimeSpan.FromMilliseconds(50));
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        var (started, release) = probe.HoldNext(grain.Id.Key);
        await grain.SetReminder(Name, ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow)).WaitAsync(TestSilo.Timeout);
        var service = provider.GetReminderService();
        await service.StartAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        Task stopping;
        try
        {
            await started.WaitAsync(TestSilo.Timeout);
            stopping = service.StopAsync(CancellationToken.None);
        }
        finally
        {
            release.TrySetResult();
        }

        await stopping.WaitAsync(TestSilo.Timeout);

        Assert.Equal(1, probe.Count(grain.Id.Key, Name));
        var left = await database.ReadRemindersAsync(grain.Id);
        Assert.True(left.Count == 0, $"The completed one-shot tick is still stored after a graceful stop: {string.Join(", ", left)}.");
    }

    // --- Failures and invalid input -----------------------------------------------------------------------------

    [Fact]
    public async Task TickOfAGrainTypeThisNodeDoesNotHost_IsLoggedAndReleasedForRetry_NotLost()
    {
        var logs = new LogCollector();
        var retryDelay = TimeSpan.FromMinutes(1);
        await using var provider = BuildSilo(new ReminderProbe(), options => options.RetryDelay = retryDelay, logs: logs);
        var foreign = new GrainId("not-hosted-here", ReminderSilo.NewKey());
        await database.InsertReminderAsync(foreign, Name);
        var service = provider.GetReminderService();

        var before = await database.NowAsync();
        Assert.Equal(1, await service.PollAsync());
        var after = await database.NowAsync();

        var released = await database.ReadReminderAsync(foreign, Name);
        Assert.NotNull(released);
        Assert.Equal(((string?)null, (DateTime?)null), (released.LeaseOwner, released.LeaseUntil));
        Assert.InRange(released.DueAt, before + retryDelay, after + retryDelay);
        Assert.Equal(0, await service.PollAsync());
        Assert.Contains(logs.Entries, entry => entry.Level == LogLevel.Error && entry.Exception is InvalidOperationException && entry.Message.Contains(foreign.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReminderNameOfTheMaximumLength_IsStored()
    {
        await using var provider = BuildSilo(new ReminderProbe());
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        var name = new string('r', ReminderChange.NameLengthMax);

        await grain.SetReminder(name, InHours(1)).WaitAsync(TestSilo.Timeout);

        Assert.Equal(name, Assert.Single(await database.ReadRemindersAsync(grain.Id)).Name);
    }

    [Fact]
    public async Task CommandSettingAnInvalidReminder_FailsAlone_AndStoresNothing()
    {
        await using var provider = BuildSilo(new ReminderProbe());
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());

        await Assert.ThrowsAsync<ArgumentException>(() => grain.SetReminder(string.Empty, InHours(1)).WaitAsync(TestSilo.Timeout));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => grain.SetReminder(Name, InHours(1), TimeSpan.Zero).WaitAsync(TestSilo.Timeout));

        Assert.Empty(await database.ReadRemindersAsync(grain.Id));
        Assert.Null(await database.ReadStateAsync(grain.Id));
    }

    [Theory]
    [InlineData(null, 1_000L, typeof(ArgumentNullException))]
    [InlineData("", 1_000L, typeof(ArgumentException))]
    [InlineData("101", 1_000L, typeof(ArgumentOutOfRangeException))]
    [InlineData("tick", 0L, typeof(ArgumentOutOfRangeException))]
    [InlineData("tick", -10_000L, typeof(ArgumentOutOfRangeException))]
    [InlineData("tick", 9_999L, typeof(ArgumentOutOfRangeException))]
    public void Set_WithAnInvalidNameOrPeriod_Throws(string? name, long periodTicks, Type expected)
    {
        // "101" stands for a name one character over the limit.
        var reminderName = name == "101" ? new string('r', ReminderChange.NameLengthMax + 1) : name;
        var grain = new GrainId(ReminderSilo.GrainType, ReminderSilo.NewKey());

        var thrown = Record.Exception(() => ReminderChange.Set(grain, reminderName!, DateTimeOffset.UtcNow, TimeSpan.FromTicks(periodTicks)));

        Assert.IsType(expected, thrown);
    }

    [Theory]
    [InlineData("PollInterval", "00:00:00")]
    [InlineData("PollInterval", "00:10:01")]
    [InlineData("Lease", "00:00:00.050")]
    [InlineData("RetryDelay", "-00:00:01")]
    [InlineData("ClaimBatchMax", "0")]
    [InlineData("ClaimBatchMax", "10001")]
    public void Options_OutOfRange_AreRefused(string option, string value)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{ReminderOptions.SectionName}:{option}"] = value })
            .Build());
        services.AddSilo(_ => { });
        services.AddMemoryGrainStorage();
        using var provider = services.BuildServiceProvider();

        var refused = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ReminderOptions>>().Value);

        Assert.Contains(option, refused.Message, StringComparison.Ordinal);
    }

    private ServiceProvider BuildSilo(
        ReminderProbe probe, Action<ReminderOptions>? reminders = null, Action<SiloOptions>? silo = null, LogCollector? logs = null) =>
        ReminderSilo.BuildOnPostgres(database.ConnectionString, probe, reminders, silo, logs);

    private static DateTimeOffset InHours(int hours) => ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow + TimeSpan.FromHours(hours));
}

/// <summary>A failing handler, seen through the reminder metric. It reads the process-wide meter, so it runs alone.</summary>
[Collection(MetricsCollection.Name)]
public sealed class ReminderMetricsTests(SiloDatabase database) : IClassFixture<SiloDatabase>
{
    private static readonly string[] FailedOnly = ["failed"];
    private static readonly string[] FailedThenOk = ["failed", "ok"];

    [Fact]
    public async Task HandlerThatThrows_KeepsItsTick_FiresItAgainAfterTheRetryDelay_AndCountsFailedThenOk()
    {
        using var fired = new MetricRecorder("mypay.silo.reminders.fired");
        var probe = new ReminderProbe();
        var retryDelay = TimeSpan.FromSeconds(1);
        await using var provider = ReminderSilo.BuildOnPostgres(database.ConnectionString, probe, options => options.RetryDelay = retryDelay);
        var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
        probe.FailNext(grain.Id.Key, 1);
        await grain.SetReminder("tick", ReminderSilo.ToMilliseconds(DateTimeOffset.UtcNow)).WaitAsync(TestSilo.Timeout);
        var service = provider.GetReminderService();

        var before = await database.NowAsync();
        Assert.Equal(1, await service.PollAsync());
        var after = await database.NowAsync();

        Assert.Equal(1, probe.Count(grain.Id.Key, "tick"));
        var released = await database.ReadReminderAsync(grain.Id, "tick");
        Assert.NotNull(released);
        Assert.Equal(((string?)null, (DateTime?)null), (released.LeaseOwner, released.LeaseUntil));
        Assert.InRange(released.DueAt, before + retryDelay, after + retryDelay);
        Assert.Equal(FailedOnly, Outcomes(fired));

        await ReminderSilo.WaitUntilAsync(async () => await service.PollAsync() == 1, "the failed tick to fire again");

        Assert.Equal(2, probe.Count(grain.Id.Key, "tick"));
        var retried = probe.Fired[1].At;
        Assert.True(retried >= new DateTimeOffset(released.DueAt, TimeSpan.Zero), $"The tick released until {released.DueAt:O} fired again at {retried:O}.");
        Assert.Empty(await database.ReadRemindersAsync(grain.Id));
        Assert.Equal(FailedThenOk, Outcomes(fired));
        Assert.All(fired.Tagged, measurement => Assert.Equal((1L, (object?)ReminderSilo.GrainType), (measurement.Value, measurement.Tags["grain_type"])));
    }

    private static string?[] Outcomes(MetricRecorder recorder) => [.. recorder.Tagged.Select(measurement => measurement.Tags["outcome"] as string)];
}

/// <summary>The hosted reminder service on a database that is not migrated yet: it must outlive the failures and then work.</summary>
public sealed class ReminderServiceStartupTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task HostedService_BeforeMigrations_LogsEachFailedPoll_KeepsRunning_AndFiresOnceMigrated()
    {
        var probe = new ReminderProbe();
        var logs = new LogCollector();
        await using var provider = ReminderSilo.BuildOnPostgres(
            database.ConnectionString, probe, options => options.PollInterval = TimeSpan.FromMilliseconds(50), logs: logs);
        var service = provider.GetReminderService();

        await service.StartAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        try
        {
            await ReminderSilo.WaitUntilAsync(() => PollFailures(logs) >= 3, "three failed polls to be logged");
            Assert.NotNull(service.ExecuteTask);
            Assert.False(service.ExecuteTask.IsCompleted, $"The reminder service stopped: {service.ExecuteTask.Exception}");

            await using (var dataSource = database.CreateDataSource())
            {
                await new MigrationRunner(dataSource, [MigrationSource.Silo]).ApplyAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
            }

            var grain = provider.GetReminderGrain(ReminderSilo.NewKey());
            await grain.SetReminder("tick", DateTimeOffset.UtcNow).WaitAsync(TestSilo.Timeout);
            await ReminderSilo.WaitUntilAsync(() => probe.Fired.Count > 0, "the reminder to fire after migrations");
            await ReminderSilo.WaitUntilAsync(
                async () => await database.ScalarAsync<long>("SELECT count(*) FROM silo_reminder") == 0, "the fired reminder's row to be deleted");
        }
        finally
        {
            await service.StopAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        }

        Assert.False(service.ExecuteTask.IsFaulted, $"The reminder service failed: {service.ExecuteTask.Exception}");
        Assert.Single(probe.Fired);
    }

    private static int PollFailures(LogCollector logs) => logs.Entries.Count(entry =>
        entry.Category == typeof(ReminderService).FullName && entry.Level == LogLevel.Warning && entry.Message.StartsWith("Reminder poll failed", StringComparison.Ordinal));
}

/// <summary>On memory storage no reminder is durable, so the silo's reminder service is one that does nothing.</summary>
public sealed class MemoryReminderTests
{
    [Fact]
    public async Task AddSilo_OnMemoryStorage_RegistersANoOpReminderService_WithoutANpgsqlDataSource()
    {
        var probe = new ReminderProbe();
        await using var provider = ReminderSilo.Build(services => services.AddMemoryGrainStorage(), probe);

        var hosted = Assert.Single(provider.GetServices<IHostedService>());
        Assert.IsNotType<ReminderService>(hosted);
        Assert.Same(hosted, provider.GetRequiredService<IHostedService>());
        await hosted.StartAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);

        // Grains may still set reminders: memory storage keeps the change with the state, and nothing fires it.
        Assert.Equal(1, await provider.GetReminderGrain(ReminderSilo.NewKey()).SetReminder("tick", DateTimeOffset.UtcNow).WaitAsync(TestSilo.Timeout));
        await hosted.StopAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);
        Assert.Empty(probe.Fired);
    }
}
