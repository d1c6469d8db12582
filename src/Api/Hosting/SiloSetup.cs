using MyPay.Grains;
using MyPay.Grains.Ledger;
using MyPay.Api.Operators;
using MyPay.Silo.Hosting;
using Orleans.Dashboard;

namespace MyPay.Api.Hosting;

public static class SiloSetup
{
    /// <summary>The configuration key (and environment variable) holding the database address.</summary>
    public const string DatabaseUrlKey = "MYPAY_DATABASE_URL";

    /// <summary>
    /// Hosts this node's Orleans silo (set up by <see cref="MyPaySiloBuilderExtensions.UseMyPaySilo"/>) with every
    /// MyPay grain, storing grains in PostgreSQL through the group-committing store, and the services around them.
    /// </summary>
    public static IHostApplicationBuilder AddMyPaySilo(this IHostApplicationBuilder builder)
    {
        var databaseUrl = builder.Configuration[DatabaseUrlKey];
        if (string.IsNullOrWhiteSpace(databaseUrl))
        {
            throw new InvalidOperationException(
                $"{DatabaseUrlKey} is not set. Set it to a postgresql:// URL, or start MyPay with ./mypay run, which starts a local PostgreSQL.");
        }

        builder.Services
            .AddMyPayGrainServices()
            .AddPostgresGrainStorage(databaseUrl)
            .AddSingleton<LedgerQueries>();
        // Orleans' dashboard for operators, served at /dashboard by the node itself (see OperatorConsole), unless left out.
        builder.UseOrleans(silo =>
        {
            silo.UseMyPaySilo(databaseUrl);
            if (OperatorConsole.IsDashboardOn(builder.Configuration))
            {
                silo.AddDashboard();
            }
        });
        return builder;
    }
}
