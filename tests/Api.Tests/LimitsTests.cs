using System.Net.Http.Json;
using MyPay.Silo.Hosting;
using MyPay.Testing;
using Npgsql;

namespace MyPay.Api.Tests;

/// <summary>
/// Limits a client meets as 503s it may retry: a grain call past the silo's response timeout, and the store's queue of
/// writes full. Both are made real by holding a lock on a member's stored row, which stalls the store's committer.
/// </summary>
public sealed class LimitsTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task GrainCallPastTheTimeout_Is503Timeout_WithRetryAfter()
    {
        await using var app = new MyPayApp(
            database.ConnectionString, settings: new Dictionary<string, string> { [MyPaySiloOptions.GrainCallTimeoutVariable] = "00:00:02" });
        (await app.CreateReadyClientAsync()).Dispose();
        var member = await app.RegisterAsync();

        await using var stall = await RowLock.TakeAsync(database, "member", member.Id);
        var started = DateTime.UtcNow;
        using var response = await member.Client.PatchAsJsonAsync($"/v1/members/{member.Id}", new { name = "박지훈" });

        var problem = await response.AssertProblemAsync(503);
        Assert.Equal("https://mypay.example/problems/timeout", problem.ProblemType());
        AssertRetryAfter(response);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), $"The timeout of 2 s answered after {DateTime.UtcNow - started}.");
    }

    [Fact]
    public async Task StoreQueueFull_Is503StorageOverloaded_WithRetryAfter()
    {
        await using var app = new MyPayApp(
            database.ConnectionString, settings: new Dictionary<string, string> { ["Silo:Postgres:QueuedWritesMax"] = "1" });
        (await app.CreateReadyClientAsync()).Dispose();
        var stalled = await app.RegisterAsync();
        List<MyPayApp.Member> others = [];
        for (var i = 0; i < 4; i++)
        {
            others.Add(await app.RegisterAsync());
        }

        Task<HttpResponseMessage>[] changes;
        await using (var stall = await RowLock.TakeAsync(database, "member", stalled.Id))
        {
            // The stalled member's write holds the committer; of the four that follow, one fits the queue of one.
            var first = stalled.Client.PatchAsJsonAsync($"/v1/members/{stalled.Id}", new { name = "박지훈" });
            await stall.WaitUntilSomeoneWaitsAsync();
            changes = [first, .. others.Select(member => member.Client.PatchAsJsonAsync($"/v1/members/{member.Id}", new { name = "박지훈" }))];

            var refused = await Task.WhenAny(changes).WaitAsync(TimeSpan.FromSeconds(20));
            var response = await refused;
            var problem = await response.AssertProblemAsync(503);
            Assert.Equal("https://mypay.example/problems/storage-overloaded", problem.ProblemType());
            AssertRetryAfter(response);
        }

        // Released, the queued writes commit: every change is either applied or refused to be retried, none a 500.
        foreach (var response in await Task.WhenAll(changes).WaitAsync(TimeSpan.FromSeconds(20)))
        {
            using (response)
            {
                Assert.True((int)response.StatusCode is 200 or 503, $"A change answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }
    }

    private static void AssertRetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        Assert.NotNull(retryAfter);
        Assert.True(retryAfter.Delta > TimeSpan.Zero, $"Retry-After should be a positive number of seconds; it was '{retryAfter}'.");
    }

    /// <summary>A transaction holding a stored grain's row: the committer writing it waits, and every write queued behind it.</summary>
    private sealed class RowLock(PostgresDatabase database, NpgsqlDataSource dataSource, NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public static async Task<RowLock> TakeAsync(PostgresDatabase database, string grainType, string grainKey)
        {
            var dataSource = database.CreateDataSource();
            var connection = await dataSource.OpenConnectionAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1 FROM silo_grain_state WHERE grain_type = @type AND grain_key = @key FOR UPDATE";
            command.Parameters.AddWithValue("type", grainType);
            command.Parameters.AddWithValue("key", grainKey);
            Assert.Equal(1, await command.ExecuteScalarAsync());
            return new RowLock(database, dataSource, connection, transaction);
        }

        public async Task WaitUntilSomeoneWaitsAsync()
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (await database.ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "Nobody waited on the row lock within 10 s.");
                await Task.Delay(10);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
            await dataSource.DisposeAsync();
        }
    }
}
