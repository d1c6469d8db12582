using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Silo.Hosting;
using MyPay.Testing;

namespace MyPay.Api.Tests;

/// <summary>GET /v1/cluster on one node: its silo, active, with its address and activations; operators only.</summary>
public sealed class ClusterTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task OneNode_ListsItsSiloActive_WithItsPortAndActivations()
    {
        var ports = FreePorts.SiloSettings();
        await using var app = new MyPayApp(database.ConnectionString, settings: ports);
        (await app.CreateReadyClientAsync()).Dispose();
        using var operatorClient = await app.OperatorAsync();

        var view = await operatorClient.GetFromJsonAsync<JsonElement>("/v1/cluster");

        Assert.Equal(1, view.GetProperty("activeSilos").GetInt32());
        var silo = Assert.Single(view.GetProperty("silos").EnumerateArray());
        Assert.Equal("active", silo.GetProperty("status").GetString());
        Assert.Equal($"127.0.0.1:{ports[MyPaySiloOptions.SiloPortVariable]}", silo.GetProperty("address").GetString());
        Assert.True(silo.GetProperty("thisNode").GetBoolean());
        Assert.True(silo.GetProperty("activations").GetInt32() >= 1, silo.ToString());
        Assert.True(silo.GetProperty("lastAliveAt").GetDateTimeOffset() >= silo.GetProperty("startedAt").GetDateTimeOffset(), silo.ToString());
    }

    [Fact]
    public async Task AMember_IsRefused()
    {
        await using var app = new MyPayApp(database.ConnectionString);
        (await app.CreateReadyClientAsync()).Dispose();
        var member = await app.RegisterAsync();

        using var response = await member.Client.GetAsync(new Uri("/v1/cluster", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
