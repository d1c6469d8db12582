using Orleans.Hosting;

namespace MyPay.Silo.Hosting;

/// <summary>
/// Orleans' ADO.NET clustering and reminder table on PostgreSQL. The providers bring no SQL: they run the named
/// queries of <c>OrleansQuery</c>, which <see cref="Migrations.MigrationSource.Clustering"/> and
/// <see cref="Migrations.MigrationSource.Reminders"/> create, so apply those migrations before the silo starts.
/// </summary>
public static class PostgresSiloBuilderExtensions
{
    /// <summary>The ADO.NET provider invariant name under which Orleans finds Npgsql.</summary>
    public const string NpgsqlInvariant = "Npgsql";

    /// <summary>Keeps the cluster's membership (which silos exist, their status and gateways) in PostgreSQL.</summary>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder silo, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return silo.UseAdoNetClustering(options =>
        {
            options.Invariant = NpgsqlInvariant;
            options.ConnectionString = connectionString;
        });
    }

    /// <summary>Lets a client outside the silos find the cluster's gateways in the same membership table.</summary>
    public static IClientBuilder UsePostgresClustering(this IClientBuilder client, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return client.UseAdoNetClustering(options =>
        {
            options.Invariant = NpgsqlInvariant;
            options.ConnectionString = connectionString;
        });
    }

    /// <summary>Keeps Orleans' durable reminders in PostgreSQL, so they survive every silo's restart.</summary>
    public static ISiloBuilder UsePostgresReminders(this ISiloBuilder silo, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return silo.UseAdoNetReminderService(options =>
        {
            options.Invariant = NpgsqlInvariant;
            options.ConnectionString = connectionString;
        });
    }
}
