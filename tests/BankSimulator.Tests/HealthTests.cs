using System.Net;

namespace MyPay.BankSimulator.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task Live_IsOk()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_IsProblem()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.GetAsync(new Uri("/nope", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
