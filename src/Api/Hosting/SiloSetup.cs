using MyPay.Grains;
using MyPay.Grains.Ledger;
using MyPay.Silo.Hosting;

namespace MyPay.Api.Hosting;

public static class SiloSetup
{
    /// <summary>The configuration key (and environment variable) holding the database address.</summary>
    public const string DatabaseUrlKey = "MYPAY_DATABASE_URL";

    /// <summary>Hosts the silo in this node, with every MyPay grain, storing grains in PostgreSQL.</summary>
    public static IServiceCollection AddMyPaySilo(this IServiceCollection services, IConfiguration configuration)
    {
        var databaseUrl = configuration[DatabaseUrlKey];
        if (string.IsNullOrWhiteSpace(databaseUrl))
        {
            throw new InvalidOperationException(
                $"{DatabaseUrlKey} is not set. Set it to a postgresql:// URL, or start MyPay with ./mypay run, which starts a local PostgreSQL.");
        }

        return services
            .AddMyPayGrainServices()
            .AddSilo(silo => silo.AddMyPayGrains())
            .AddPostgresGrainStorage(databaseUrl)
            .AddSingleton<LedgerQueries>();
    }
}
