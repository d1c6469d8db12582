using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MyPay.Silo.Events;
using MyPay.Silo.Migrations;
using MyPay.Silo.Storage;
using MyPay.Silo.Storage.Postgres;
using Npgsql;

namespace MyPay.Silo.Hosting;

public static class SiloServiceCollectionExtensions
{
    /// <summary>
    /// Stores grains in PostgreSQL through one <see cref="NpgsqlDataSource"/> for the process, and applies
    /// migrations (the silo's, then those added with <see cref="AddMigrations"/>) at start-up.
    /// </summary>
    /// <param name="databaseUrl">A <c>postgresql://</c> URL or a keyword connection string.</param>
    /// <remarks>
    /// The process has one store, whoever adds it (the node, and <see cref="MyPaySiloBuilderExtensions.UseMyPaySilo"/>):
    /// a second call adds nothing. A named committer (<see cref="GroupCommitStorageExtensions.AddGroupCommitGrainStorage"/>)
    /// gets a store of its own, with its own committer loop, on the same data source.
    /// </remarks>
    public static IServiceCollection AddPostgresGrainStorage(this IServiceCollection services, string databaseUrl)
    {
        if (services.Any(service => service.ServiceType == typeof(PostgresStartup)))
        {
            return services;
        }

        services.TryAddSingleton(provider => new NpgsqlDataSourceBuilder(PostgresConnection.ForStore(
            databaseUrl, provider.GetRequiredService<IOptions<PostgresStorageOptions>>().Value.ConnectionsMax)).Build());
        services.AddOptions<PostgresStorageOptions>().BindConfiguration("Silo:Postgres").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IGrainStorage>(NewStore);

        // A named committer (keyed by its name): a store of its own on the same database, created on first use.
        services.AddKeyedSingleton<IGrainStorage>(KeyedService.AnyKey, (provider, _) => NewStore(provider));
        services.AddSingleton(MigrationSource.Silo);
        services.AddRecordWriter<OutboxWriter>();
        services.AddSingleton<PostgresStartup>();
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<PostgresStartup>());
        services.AddSingleton<IStorageHealth>(provider => provider.GetRequiredService<PostgresStartup>());
        return services;
    }

    /// <summary>Stores grains in process memory: for tests; nothing survives the process. Named committers share the one memory store.</summary>
    public static IServiceCollection AddMemoryGrainStorage(this IServiceCollection services)
    {
        services.AddSingleton<IGrainStorage, MemoryGrainStorage>();
        services.AddKeyedSingleton(KeyedService.AnyKey, (provider, _) => provider.GetRequiredService<IGrainStorage>());
        services.AddSingleton<IStorageHealth, MemoryStorageHealth>();
        return services;
    }

    private static PostgresGrainStorage NewStore(IServiceProvider provider) => new(
        provider.GetRequiredService<NpgsqlDataSource>(),
        provider.GetRequiredService<IOptions<PostgresStorageOptions>>().Value,
        provider.GetServices<IRecordWriter>());

    /// <summary>Adds a writer for records appended to grain writes (PostgreSQL storage only; memory storage keeps them in a list).</summary>
    public static IServiceCollection AddRecordWriter<TWriter>(this IServiceCollection services)
        where TWriter : class, IRecordWriter =>
        services.AddSingleton<IRecordWriter, TWriter>();

    /// <summary>Adds a component's migrations, applied after the silo's own.</summary>
    public static IServiceCollection AddMigrations(this IServiceCollection services, MigrationSource source) =>
        services.AddSingleton(source);
}
