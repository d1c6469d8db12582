using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MyPay.Silo.Hosting;

namespace MyPay.Testing;

/// <summary>Loopback ports no one listens on, so nodes started by tests in parallel never collide.</summary>
public static class FreePorts
{
    /// <summary>A port the system just handed out and took back: free now, and not handed out again soon.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The settings giving a node's Orleans silo a free silo port and a free gateway port of its own.</summary>
    public static Dictionary<string, string> SiloSettings() => new()
    {
        [MyPaySiloOptions.SiloPortVariable] = Next().ToString(CultureInfo.InvariantCulture),
        [MyPaySiloOptions.GatewayPortVariable] = Next().ToString(CultureInfo.InvariantCulture),
    };
}
