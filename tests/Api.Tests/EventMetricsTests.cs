using System.Globalization;
using System.Net;
using Npgsql;

namespace MyPay.Api.Tests;

/// <summary>Consumer lag and dead letters as metrics, scraped by operators from the node's Prometheus endpoint.</summary>
public sealed class EventMetricsTests(BankFixture fixture) : IClassFixture<BankFixture>, IAsyncLifetime
{
    private MyPayApp app = null!;
    private NpgsqlDataSource database = null!;

    public async Task InitializeAsync()
    {
        app = new MyPayApp(fixture.Database.ConnectionString, fixture.Bank.BaseAddress);
        (await app.CreateReadyClientAsync()).Dispose();
        database = fixture.Database.CreateDataSource();
    }

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task DeadLettersAndEachReadersLag_AreGauges_OnTheOperatorsMetricsEndpoint()
    {
        await app.RegisterAsync();
        await using (var dead = database.CreateCommand(
            """
            INSERT INTO outbox_dead_letter (consumer, event_id, stream_key, sequence, type, payload, occurred_at, error, attempts)
            VALUES ('regionprojection', 'member.registered:metrics-test', 'member:metrics-test', 1, 'member.registered', '{}', now(), 'test', 3)
            """))
        {
            await dead.ExecuteNonQueryAsync();
        }

        using var operatorClient = await app.OperatorAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var metrics = await operatorClient.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        while ((Gauge(metrics, "mypay_events_dead_letters") is not >= 1 || !metrics.Contains("mypay_events_lag{", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            metrics = await operatorClient.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        }

        Assert.True(Gauge(metrics, "mypay_events_dead_letters") >= 1, metrics);
        Assert.Contains("mypay_events_lag{", metrics, StringComparison.Ordinal);
        Assert.Contains("reader=\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheMetricsEndpoint_IsForOperatorsOnly()
    {
        using var anonymous = app.CreateClient();
        using var unsigned = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);

        var member = await app.RegisterAsync();
        using var customer = await member.Client.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, customer.StatusCode);
    }

    /// <summary>The value of an untagged gauge in Prometheus' text format, or null when it is not there.</summary>
    private static double? Gauge(string metrics, string name) =>
        metrics.Split('\n')
            .Where(line => line.StartsWith(name + " ", StringComparison.Ordinal) || line.StartsWith(name + "{", StringComparison.Ordinal))
            .Select(line => (double?)double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture))
            .FirstOrDefault();
}
