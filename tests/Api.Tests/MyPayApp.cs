using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Silo.Hosting;
using MyPay.Testing;

namespace MyPay.Api.Tests;

/// <summary>
/// A MyPay node in the test process, on the given database; one per test class (or per test when state must not
/// leak). Its Orleans silo gets free ports of its own, so nodes running side by side (on one database or not) never
/// collide; <paramref name="settings"/> may still name others. <paramref name="logs"/>, when given, receives
/// the node's log entries too.
/// </summary>
public sealed class MyPayApp(
    string databaseUrl, Uri? bankUrl = null, IReadOnlyDictionary<string, string>? settings = null, ILoggerProvider? logs = null)
    : WebApplicationFactory<Program>
{
    public const string OperatorPassword = "operator-password-for-tests";

    /// <summary>The tests' signing key: they sign tokens of their own with it (expired, tampered) to probe validation.</summary>
    public static readonly byte[] SigningKey = [.. Enumerable.Range(1, 32).Select(i => (byte)(i * 7))];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting(SiloSetup.DatabaseUrlKey, databaseUrl);
        builder.UseSetting(AuthOptions.SigningKeyVariable, Convert.ToBase64String(SigningKey));
        builder.UseSetting(AuthOptions.OperatorPasswordVariable, OperatorPassword);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");

        // Without a bank, the node points at a closed port: bank calls fail fast as "no answer".
        builder.UseSetting(MyPay.Api.Banking.BankOptions.UrlVariable, bankUrl?.ToString() ?? "http://127.0.0.1:9");

        // Test classes share a database, and nodes of one cluster id on one database form one cluster: a node of its
        // own, whose grains activate on it with its settings, unless a test asks for company.
        builder.UseSetting(MyPaySiloOptions.ClusterIdVariable, $"test-{Guid.NewGuid():N}");
        foreach (var (key, value) in FreePorts.SiloSettings().Concat(settings ?? new Dictionary<string, string>()))
        {
            builder.UseSetting(key, value);
        }

        if (logs is not null)
        {
            builder.ConfigureLogging(logging => logging.AddProvider(logs));
        }
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

    /// <summary>Registers a member with a fresh email and signs them in; the client carries their token.</summary>
    public async Task<Member> RegisterAsync(string type = "customer", string name = "김민수", string password = "correct horse battery")
    {
        using var anonymous = CreateClient();
        var email = $"{Guid.NewGuid():N}@example.com";
        using var registered = await anonymous.PostAsJsonAsync("/v1/members", new { type, name, email, address = "서울특별시 강남구 테헤란로 1", password });
        registered.EnsureSuccessStatusCode();
        var id = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        return new Member(id, email, await SignInAsync(email, password));
    }

    /// <summary>A client signed in as the operator.</summary>
    public Task<HttpClient> OperatorAsync() => SignInAsync("operator", OperatorPassword);

    public async Task<HttpClient> SignInAsync(string username, string password)
    {
        var client = CreateClient();
        using var response = await client.PostAsJsonAsync("/v1/auth/token", new { username, password });
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public sealed record Member(string Id, string Email, HttpClient Client)
    {
        /// <summary>The member's linked bank account, when one was linked.</summary>
        public string? BankCode { get; init; }

        public string? AccountNumber { get; init; }
    }
}
