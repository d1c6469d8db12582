using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MyPay.Silo.Hosting;

namespace MyPay.Testing;

/// <summary>Loopback ports no one listens on, so nodes started by tests in parallel never collide.</summary>
public static class FreePorts
{
    /// <summary>
    /// Two distinct free ports, both held at once while they are chosen: one released before the other is asked for
    /// can be handed out again at once.
    /// </summary>
    public static (int First, int Second) Pair()
    {
        using var first = new TcpListener(IPAddress.Loopback, 0);
        using var second = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        second.Start();
        return (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port);
    }

    /// <summary>The settings giving a node's Orleans silo a free silo port and a free gateway port of its own.</summary>
    public static Dictionary<string, string> SiloSettings()
    {
        var (silo, gateway) = Pair();
        return new()
        {
            [MyPaySiloOptions.SiloPortVariable] = silo.ToString(CultureInfo.InvariantCulture),
            [MyPaySiloOptions.GatewayPortVariable] = gateway.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>
    /// The first of <paramref name="count"/> consecutive loopback ports no one listens on, for a command that numbers
    /// its processes' ports from a base (./mypay run --nodes). Below Linux's ephemeral range, so an outgoing connection
    /// does not take one before the command binds it.
    /// </summary>
    public static int Range(int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var first = Random.Shared.Next(15_000, 32_000 - count);
            var held = new List<TcpListener>();
            try
            {
                for (var port = first; port < first + count; port++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    held.Add(listener);
                }

                return first;
            }
            catch (SocketException)
            {
                // One of them is taken: try another range.
            }
            finally
            {
                held.ForEach(listener => listener.Stop());
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free ports found.");
    }
}
