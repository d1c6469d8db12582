using Npgsql;

namespace MyPay.Bench.Peer;

/// <summary>The peer's one data source, with the driver settings MyPay's node uses, so the two differ in design only.</summary>
public static class PeerDatabase
{
    public static NpgsqlDataSource Open(string databaseUrl, int connectionsMax)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(connectionsMax, 1);
        var url = new Uri(databaseUrl);
        if (url.Scheme is not ("postgresql" or "postgres"))
        {
            throw new ArgumentException($"MYPAY_DATABASE_URL must be a postgresql:// URL; got scheme '{url.Scheme}'.", nameof(databaseUrl));
        }

        var user = Uri.UnescapeDataString(url.UserInfo).Split(':', 2);
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host,
            Port = url.IsDefaultPort ? 5432 : url.Port,
            Database = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/')),
            Username = user[0],
            Password = user.Length > 1 ? user[1] : null,
            MaxPoolSize = connectionsMax,
            // As the node: statements prepared once per connection, and no reset round trip when a connection goes back.
            MaxAutoPrepare = 32,
            NoResetOnClose = true,
        };
        return NpgsqlDataSource.Create(connectionString);
    }
}
