using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Storage.Retention;
using Npgsql;

namespace MyPay.Grains.Tests;

/// <summary>The retention tests' cluster: the default 30-day retention, pruned two keys a statement, at most three statements a prune.</summary>
public sealed class RetentionHost() : GrainHost(services => services.Configure<OperationKeyOptions>(options =>
{
    options.PruneBatchSize = 2;
    options.PruneBatchesMax = 3;
}));

/// <summary>Operation keys are kept for their retention, then pruned by one reminder for the cluster, in bounded batches, on the real PostgreSQL.</summary>
public sealed class OperationKeyRetentionTests(RetentionHost host) : IClassFixture<RetentionHost>
{
    private NpgsqlDataSource Database => host.Services.GetRequiredService<NpgsqlDataSource>();

    [Fact]
    public async Task Start_RegistersOnePruningReminder_ForTheCluster()
    {
        await using var command = Database.CreateCommand(
            "SELECT count(*) FROM orleans_reminder WHERE grain_id LIKE '%/operation-keys' AND reminder_name = @name");
        command.Parameters.AddWithValue("name", OperationKeyRetentionGrain.ReminderName);

        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Prune_DeletesKeysPastTheRetention_OldestFirstInBoundedBatches_AndKeepsRecentOnes()
    {
        var grain = $"retention-{Guid.NewGuid():N}";
        await RecordAsync(grain, "recent", TimeSpan.FromDays(29));
        await RecordAsync(grain, "today", TimeSpan.Zero);
        for (var i = 0; i < 7; i++)
        {
            await RecordAsync(grain, $"old-{i}", TimeSpan.FromDays(31 + i));
        }

        var retention = host.Grains.GetGrain<IOperationKeyRetentionGrain>(IOperationKeyRetentionGrain.Key);

        // Three statements of two: six of the seven old keys, the oldest first; the next prune takes the last.
        Assert.Equal(6, await retention.Prune());
        Assert.Equal(["old-0", "recent", "today"], await KeysAsync(grain));
        Assert.Equal(1, await retention.Prune());
        Assert.Equal(["recent", "today"], await KeysAsync(grain));
        Assert.Equal(0, await retention.Prune());
    }

    private async Task RecordAsync(string grainKey, string operationId, TimeSpan age)
    {
        await using var command = Database.CreateCommand(
            """
            INSERT INTO silo_grain_operation (grain_type, grain_key, operation_id, request_hash, result, recorded_at)
            VALUES ('retention-test', @key, @operation, 'hash', '\x00', now() - @age)
            """);
        command.Parameters.AddWithValue("key", grainKey);
        command.Parameters.AddWithValue("operation", operationId);
        command.Parameters.AddWithValue("age", age);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<List<string>> KeysAsync(string grainKey)
    {
        await using var command = Database.CreateCommand(
            "SELECT operation_id FROM silo_grain_operation WHERE grain_type = 'retention-test' AND grain_key = @key ORDER BY operation_id");
        command.Parameters.AddWithValue("key", grainKey);
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }
}
