using Npgsql;

namespace MyPay.Silo.Storage.Postgres;

/// <summary>Turns the configured database address into the process's one <see cref="NpgsqlDataSource"/>.</summary>
public static class PostgresConnection
{
    /// <summary>
    /// Accepts a URL (<c>postgresql://user:password@host:port/database?Maximum Pool Size=4</c>; the node's pool takes the lower of that
    /// and <see cref="PostgresStorageOptions.ConnectionsMax"/>) or a
    /// keyword connection string (<c>Host=...;Database=...</c>), as <c>MYPAY_DATABASE_URL</c> may hold either.
    /// </summary>
    public static string ToConnectionString(string urlOrConnectionString)
    {
        if (!urlOrConnectionString.StartsWith("postgres://", StringComparison.Ordinal)
            && !urlOrConnectionString.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return new NpgsqlConnectionStringBuilder(urlOrConnectionString).ConnectionString;
        }

        var url = new Uri(urlOrConnectionString);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host,
            Port = url.IsDefaultPort || url.Port <= 0 ? 5432 : url.Port,
            Database = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/')) is { Length: > 0 } database ? database : "postgres",
        };
        var userInfo = url.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            builder[Uri.UnescapeDataString(parts[0])] = parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : "true";
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// The store's connection string (the committer's and the queries' beside it): prepared statements, which save PostgreSQL a
    /// parse and plan per call on the hot path, unless the address chooses otherwise; no DISCARD ALL when a connection goes back
    /// to the pool, as nothing leaves session state on one (advisory locks are transaction-scoped): seven fewer statements per
    /// checkout; and a pool of at most <paramref name="connectionsMax"/>.
    /// </summary>
    public static string ForStore(string databaseUrl, int connectionsMax)
    {
        var builder = new NpgsqlConnectionStringBuilder(ToConnectionString(databaseUrl)) { NoResetOnClose = true };
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 32;
        }

        return WithPoolOf(builder.ConnectionString, connectionsMax);
    }

    /// <summary>The connection string with its pool bounded to <paramref name="connectionsMax"/>, unless it is bounded lower already.</summary>
    public static string WithPoolOf(string connectionString, int connectionsMax)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.MaxPoolSize = Math.Min(builder.MaxPoolSize, connectionsMax);
        return builder.ConnectionString;
    }
}
