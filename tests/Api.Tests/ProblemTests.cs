using MyPay.Testing;

namespace MyPay.Api.Tests;

public sealed class ProblemTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Theory]
    [InlineData("GET", "/nope")]
    [InlineData("GET", "/v1/members")]
    [InlineData("DELETE", "/v1/members/m1/wallet")]
    public async Task UnknownRouteOrMethod_IsProblem(string method, string path)
    {
        await using var app = new MyPayApp(database.ConnectionString);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.True((int)response.StatusCode is 404 or 405, $"Expected 404 or 405, got {(int)response.StatusCode}.");
        await response.AssertProblemAsync((int)response.StatusCode);
    }

    [Fact]
    public async Task Live_IsOk()
    {
        await using var app = new MyPayApp(database.ConnectionString);
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri("/health/live", UriKind.Relative));

        response.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheMoneyEndpoints_AndHasAUi()
    {
        await using var app = new MyPayApp(database.ConnectionString);
        using var client = app.CreateClient();

        var document = await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        using var ui = await client.GetAsync(new Uri("/swagger/index.html", UriKind.Relative));

        Assert.Contains("/v1/members/{memberId}/wallet/recharge", document, StringComparison.Ordinal);
        Assert.Contains("/v1/payments", document, StringComparison.Ordinal);
        Assert.Contains("/v1/remittances", document, StringComparison.Ordinal);
        ui.EnsureSuccessStatusCode();
    }
}
