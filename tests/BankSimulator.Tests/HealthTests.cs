using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace MyPay.BankSimulator.Tests;

public sealed class HealthTests : IClassFixture<WebApplicationFactory<Program>>
{
    private readonly HttpClient client;

    public HealthTests(WebApplicationFactory<Program> bank) => client = bank.CreateClient();

    [Fact]
    public async Task Live_IsOk()
    {
        using var response = await client.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_IsProblem()
    {
        using var response = await client.GetAsync(new Uri("/nope", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
