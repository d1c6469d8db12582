using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using MyPay.Api.Hosting;

namespace MyPay.Api.Tests;

/// <summary>A MyPay node in the test process, on the given database; one per test class (or per test when state must not leak).</summary>
public sealed class MyPayApp(string databaseUrl) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting(SiloSetup.DatabaseUrlKey, databaseUrl);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }

    /// <summary>Waits (bounded) until /health/ready answers 200: migrations are applied.</summary>
    public async Task<HttpClient> CreateReadyClientAsync()
    {
        var client = CreateClient();
        for (var attempt = 0; attempt < 200; attempt++)
        {
            using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                return client;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The node did not become ready within 10 seconds.");
    }
}
