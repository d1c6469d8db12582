using Microsoft.Extensions.DependencyInjection;
using MyPay.Testing;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace MyPay.Silo.Tests.Orleans;

/// <summary>
/// Orleans' ADO.NET reminder table on MyPay's reminder schema and queries, through the real provider on this
/// class's own database: reminders tick, are stored, go away when unregistered, and are read back by hash range.
/// </summary>
public sealed class PostgresReminderTableTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private static readonly TimeSpan Period = PostgresTestCluster.ReminderPeriodMin;

    public async Task InitializeAsync() => await PostgresTestCluster.MigrateAsync(database);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task RegisterOrUpdateReminder_OnAGrain_TicksAndIsStored_UntilUnregisteredWhichDeletesTheRow()
    {
        await using var cluster = await PostgresTestCluster.StartAsync(database, siloCount: 1);
        var key = Guid.NewGuid().ToString("N");
        var grain = cluster.Client.GetGrain<IReminderProbeGrain>(key);
        var serviceId = cluster.Options.ServiceId;
        var grainId = grain.GetGrainId().ToString();

        await grain.Start(Period);
        await PostgresTestCluster.UntilAsync(() => Task.FromResult(ReminderTicks.Of(key).Count >= 2), "two ticks of the reminder");

        Assert.Equal(1L, await CountRemindersAsync(serviceId, grainId, periodMs: (long)Period.TotalMilliseconds));

        await grain.Unregister();

        Assert.Equal(0L, await CountRemindersAsync(serviceId, grainId));
    }

    [Fact]
    public async Task Reminders_OfManyGrains_AfterTheClusterIsReplacedByTwoSilos_AreReadBackByRangeAndFire()
    {
        // Goal: reminders survive their silo, and the new silos find them only through the range queries: each
        // silo owns many ranges of the hash ring and reads each one, and with more than one range exactly one of
        // them wraps in signed order (ReadRangeRows2Key) while the others do not (ReadRangeRows1Key). Forty grains
        // spread over the ring fire only if both queries return their rows.
        const int grainCount = 40;
        var keys = Enumerable.Range(0, grainCount).Select(_ => Guid.NewGuid().ToString("N")).ToList();
        string serviceId;
        string clusterId;
        await using (var first = await PostgresTestCluster.StartAsync(database, siloCount: 1))
        {
            serviceId = first.Options.ServiceId;
            clusterId = first.Options.ClusterId;
            await Task.WhenAll(keys.Select(key => first.Client.GetGrain<IReminderProbeGrain>(key).Start(Period)))
                .WaitAsync(PostgresTestCluster.WaitMax);
        }

        var ticksBefore = keys.ToDictionary(key => key, key => ReminderTicks.Of(key).Count, StringComparer.Ordinal);
        await using var second = await PostgresTestCluster.StartAsync(database, siloCount: 2, serviceId, clusterId);
        var secondSilos = second.Silos.Select(silo => silo.SiloAddress.ToString()).ToHashSet(StringComparer.Ordinal);

        // No grain is called again: a tick after the restart can only come from a row the new silos' reminder services
        // read back from the table by their ranges. (Where a ticked grain runs is placement's choice, not the ring's, so
        // it says nothing about which silo read its row; the range queries' exact bounds are checked row by row below.)
        await PostgresTestCluster.UntilAsync(
            () => Task.FromResult(keys.All(key => ReminderTicks.Of(key).Skip(ticksBefore[key]).Any(secondSilos.Contains))),
            $"every one of {grainCount} reminders ticks on the new silos");

        await Task.WhenAll(keys.Select(key => second.Client.GetGrain<IReminderProbeGrain>(key).Unregister())).WaitAsync(PostgresTestCluster.WaitMax);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM orleans_reminder"));
    }

    [Fact]
    public async Task ReadRows_ByHashRange_ReturnsExactlyTheRowsInTheRange_AcrossBothWraps()
    {
        // Goal: the range queries against the provider's contract, (begin, end] on the unsigned ring, with hashes
        // stored signed. Ranges cross the unsigned wrap (2^32 to 0), the signed wrap (2^31), start or end exactly
        // on a row's hash, and cover the whole ring (begin equals end).
        await using var cluster = await PostgresTestCluster.StartAsync(database, siloCount: 1);
        var table = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<IReminderTable>();
        var entries = Enumerable.Range(0, 200)
            .Select(_ => new ReminderEntry
            {
                GrainId = GrainId.Create("rangeprobe", Guid.NewGuid().ToString("N")),
                ReminderName = "range",
                // Far in the future and hourly: the silo's reminder service must not try to fire these.
                StartAt = DateTime.UtcNow.AddDays(1),
                Period = TimeSpan.FromHours(1),
            })
            .ToList();
        foreach (var entry in entries)
        {
            entry.ETag = await table.UpsertRow(entry);
        }

        var hashes = entries.Select(entry => entry.GrainId.GetUniformHashCode()).Order().ToList();
        var someHash = hashes[hashes.Count / 2];
        (uint Begin, uint End)[] ranges =
        [
            (0, uint.MaxValue),
            (uint.MaxValue - 0x1000_0000, 0x1000_0000),
            (0x7000_0000, 0x9000_0000),
            (0x9000_0000, 0x7000_0000),
            (0x1000_0000, 0x2000_0000),
            (0xA000_0000, 0xC000_0000),
            (someHash, unchecked(someHash + 0x2000_0000)),
            (unchecked(someHash - 0x2000_0000), someHash),
            (someHash, someHash),
            (0x8000_0000, 0x8000_0000),
        ];

        foreach (var (begin, end) in ranges)
        {
            var expected = entries.Where(entry => InRange(entry.GrainId.GetUniformHashCode(), begin, end)).Select(entry => entry.GrainId).Order().ToList();
            var read = (await table.ReadRows(begin, end)).Reminders.Where(entry => entry.ReminderName == "range").Select(entry => entry.GrainId).Order().ToList();
            Assert.True(expected.SequenceEqual(read), $"Range ({begin:X8}, {end:X8}]: expected {expected.Count} rows, read {read.Count}.");
        }

        // The whole ring reads every row; a sanity check that the comparison above is not between empty lists.
        Assert.Equal(entries.Count, (await table.ReadRows(someHash, someHash)).Reminders.Count(entry => entry.ReminderName == "range"));

        var stale = entries[0];
        var current = await table.UpsertRow(stale);
        Assert.NotNull(current);
        Assert.NotEqual(stale.ETag, current);
        Assert.False(await table.RemoveRow(stale.GrainId, stale.ReminderName, stale.ETag!));
        Assert.Equal(current, (await table.ReadRow(stale.GrainId, stale.ReminderName))?.ETag);
        Assert.True(await table.RemoveRow(stale.GrainId, stale.ReminderName, current));
        Assert.Null(await table.ReadRow(stale.GrainId, stale.ReminderName));

        await table.TestOnlyClearTable();
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT count(*) FROM orleans_reminder WHERE service_id = '{cluster.Options.ServiceId}'"));
    }

    /// <summary>Orleans' ring range (begin, end]: when begin is not below end the range wraps past 2^32, and begin equal to end is the whole ring.</summary>
    private static bool InRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private async Task<long> CountRemindersAsync(string serviceId, string grainId, long? periodMs = null)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT count(*) FROM orleans_reminder
            WHERE service_id = @serviceId AND grain_id = @grainId AND (@periodMs::bigint IS NULL OR period_ms = @periodMs)
            """,
            connection);
        command.Parameters.AddWithValue("serviceId", serviceId);
        command.Parameters.AddWithValue("grainId", grainId);
        command.Parameters.AddWithValue("periodMs", (object?)periodMs ?? DBNull.Value);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
