using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// A MyPay node as a real process (the built <c>MyPay.Api.dll</c>), so a test can kill it with
/// SIGKILL mid-request and start it again, as a crash would.
/// </summary>
public static class NodeProcess
{
    public const string OperatorPassword = "operator-password-for-end-to-end-tests";

    /// <summary>The same key on every start, so tokens issued before a crash still work after it.</summary>
    public static readonly string SigningKey = Convert.ToBase64String([.. Enumerable.Range(0, 32).Select(i => (byte)(255 - i))]);

    /// <summary>
    /// The silo ports of the nodes started on each database. A node restarted on its database gets its
    /// predecessor's ports, as a redeployed node would: Orleans then knows the new silo for the same silo's next
    /// generation and marks the killed one dead at once, where a stranger would wait for the dead one to answer.
    /// </summary>
    private static readonly ConcurrentDictionary<string, Dictionary<string, string>> SiloPortsByDatabase = new(StringComparer.Ordinal);

    public static Task<BuiltProcess> StartAsync(string databaseUrl, Uri? bankUrl = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>(SiloPortsByDatabase.GetOrAdd(databaseUrl, _ => FreePorts.SiloSettings()))
        {
            ["MYPAY_DATABASE_URL"] = databaseUrl,
            ["MYPAY_JWT_SIGNING_KEY"] = SigningKey,
            ["MYPAY_OPERATOR_PASSWORD"] = OperatorPassword,
            ["MYPAY_BANK_URL"] = bankUrl?.ToString() ?? "http://127.0.0.1:9",
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        return BuiltProcess.StartAsync("Api", "/health/ready", environment);
    }

    /// <summary>Registers a customer and returns their id and a bearer token.</summary>
    public static async Task<(string Id, string Token)> RegisterAsync(this BuiltProcess node, string password = "correct horse battery")
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        using var registered = await node.Client.PostAsJsonAsync("/v1/members", new { type = "customer", name = "홍길동", email, address = "부산광역시", password });
        registered.EnsureSuccessStatusCode();
        var id = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var signedIn = await node.Client.PostAsJsonAsync("/v1/auth/token", new { username = email, password });
        signedIn.EnsureSuccessStatusCode();
        return (id, (await signedIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!);
    }
}
