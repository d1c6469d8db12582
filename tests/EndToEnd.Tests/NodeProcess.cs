using System.Collections.Concurrent;
using System.Globalization;
using MyPay.Silo.Hosting;
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

    /// <summary>The slot of a database's first node; tests of one node never name another.</summary>
    public const string FirstSlot = "first";

    /// <summary>
    /// The silo ports of the nodes started on each database, one pair per slot. A node restarted in its slot gets its
    /// predecessor's ports, as a redeployed node would: Orleans then knows the new silo for the same silo's next
    /// generation and marks the killed one dead at once, where a stranger would wait for the dead one to answer. Nodes
    /// running side by side on one database (one cluster of several silos) each take a slot of their own.
    /// </summary>
    private static readonly ConcurrentDictionary<(string DatabaseUrl, string Slot), Dictionary<string, string>> SiloPortsBySlot = new();

    /// <summary>
    /// Starts a node on <paramref name="databaseUrl"/> in <paramref name="slot"/>: the silo and gateway ports of the
    /// slot's previous node, or fresh ones for a new slot. It serves HTTP at <paramref name="url"/>, or on a port the
    /// system gives it.
    /// </summary>
    public static Task<BuiltProcess> StartAsync(
        string databaseUrl, Uri? bankUrl = null, IReadOnlyDictionary<string, string>? settings = null, string slot = FirstSlot, Uri? url = null)
    {
        var environment = new Dictionary<string, string>(SiloPortsOf(databaseUrl, slot))
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

        return BuiltProcess.StartAsync("Api", "/health/ready", environment, url);
    }

    /// <summary>The silo port of the node in <paramref name="slot"/> on <paramref name="databaseUrl"/>: how the cluster's membership names it.</summary>
    public static int SiloPortOf(string databaseUrl, string slot = FirstSlot) =>
        int.Parse(SiloPortsOf(databaseUrl, slot)[MyPaySiloOptions.SiloPortVariable], CultureInfo.InvariantCulture);

    private static Dictionary<string, string> SiloPortsOf(string databaseUrl, string slot) =>
        SiloPortsBySlot.GetOrAdd((databaseUrl, slot), _ => FreePorts.SiloSettings());
}
