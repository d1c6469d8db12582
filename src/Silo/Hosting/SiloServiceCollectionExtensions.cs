using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MyPay.Silo.Grains;
using MyPay.Silo.Migrations;
using MyPay.Silo.Reminders;
using MyPay.Silo.Storage;
using MyPay.Silo.Storage.Postgres;
using Npgsql;

namespace MyPay.Silo.Hosting;

public static class SiloServiceCollectionExtensions
{
    /// <summary>
    /// Hosts a silo in this process: <see cref="IGrainFactory"/> and <see cref="Silo"/> become services.
    /// Options bind from the <c>Silo</c> configuration section and are validated at start-up.
    /// Storage is added separately: <see cref="AddPostgresGrainStorage"/> or <see cref="AddMemoryGrainStorage"/>.
    /// </summary>
    public static IServiceCollection AddSilo(this IServiceCollection services, Action<SiloBuilder> configure)
    {
        var builder = new SiloBuilder();
        configure(builder);
        services.AddOptions<SiloOptions>().BindConfiguration(SiloOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(options => options.CollectionAge > TimeSpan.Zero && options.CollectionInterval > TimeSpan.Zero, "Silo:CollectionAge and Silo:CollectionInterval must be positive.")
            .ValidateOnStart();
        services.AddSingleton(provider => new Silo(
            provider.GetRequiredService<IOptions<SiloOptions>>().Value,
            provider.GetRequiredService<IGrainStorage>(),
            builder.Registrations,
            provider));
        services.AddSingleton<IGrainFactory>(provider => provider.GetRequiredService<Silo>());

        // Reminders are durable only in PostgreSQL; on memory storage none are stored, so none fire.
        services.AddOptions<ReminderOptions>().BindConfiguration(ReminderOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IHostedService>(provider => provider.GetService<NpgsqlDataSource>() is null
            ? new NoReminders()
            : AfterMigrations(provider, ActivatorUtilities.CreateInstance<ReminderService>(provider)));
        return services;
    }

    /// <summary>
    /// Stores grains in PostgreSQL through one <see cref="NpgsqlDataSource"/> for the process, and applies
    /// migrations (the silo's, then those added with <see cref="AddMigrations"/>) at start-up.
    /// </summary>
    /// <param name="databaseUrl">A <c>postgresql://</c> URL or a keyword connection string.</param>
    /// <remarks>
    /// The process has one store: both the old host and the Orleans silo (<see cref="MyPaySiloBuilderExtensions.UseMyPaySilo"/>)
    /// add it, so a second call adds nothing.
    /// </remarks>
    public static IServiceCollection AddPostgresGrainStorage(this IServiceCollection services, string databaseUrl)
    {
        if (services.Any(service => service.ServiceType == typeof(PostgresStartup)))
        {
            return services;
        }

        var connectionString = new NpgsqlConnectionStringBuilder(PostgresConnection.ToConnectionString(databaseUrl));

        // Prepared statements save PostgreSQL a parse and plan per call on the hot path.
        if (connectionString.MaxAutoPrepare == 0)
        {
            connectionString.MaxAutoPrepare = 32;
        }

        // Nothing here leaves session state on a connection (advisory locks are transaction-scoped), so a
        // connection going back to the pool needs no DISCARD ALL: seven fewer statements per checkout.
        connectionString.NoResetOnClose = true;

        services.TryAddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString.ConnectionString).Build());
        services.AddOptions<PostgresStorageOptions>().BindConfiguration("Silo:Postgres").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IGrainStorage>(provider => new PostgresGrainStorage(
            provider.GetRequiredService<NpgsqlDataSource>(),
            provider.GetRequiredService<IOptions<PostgresStorageOptions>>().Value,
            provider.GetServices<IRecordWriter>()));
        services.AddSingleton(MigrationSource.Silo);
        services.AddRecordWriter<ReminderWriter>();
        services.AddSingleton<PostgresStartup>();
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<PostgresStartup>());
        services.AddSingleton<IStorageHealth>(provider => provider.GetRequiredService<PostgresStartup>());
        return services;
    }

    /// <summary>Stores grains in process memory: for tests; nothing survives the process.</summary>
    public static IServiceCollection AddMemoryGrainStorage(this IServiceCollection services)
    {
        services.AddSingleton<IGrainStorage, MemoryGrainStorage>();
        services.AddSingleton<IStorageHealth, MemoryStorageHealth>();
        return services;
    }

    /// <summary>Adds a writer for records appended to grain writes (PostgreSQL storage only; memory storage keeps them in a list).</summary>
    public static IServiceCollection AddRecordWriter<TWriter>(this IServiceCollection services)
        where TWriter : class, IRecordWriter =>
        services.AddSingleton<IRecordWriter, TWriter>();

    /// <summary>The service, started once the migrations of <see cref="AddPostgresGrainStorage"/> (when added) are applied.</summary>
    private static IHostedService AfterMigrations(IServiceProvider provider, IHostedService service) =>
        provider.GetService<PostgresStartup>() is { } startup ? new StartAfterMigrations(startup, service) : service;

    /// <summary>Adds a component's migrations, applied after the silo's own.</summary>
    public static IServiceCollection AddMigrations(this IServiceCollection services, MigrationSource source) =>
        services.AddSingleton(source);
}

/// <summary>The reminder service of a silo whose storage keeps no reminders.</summary>
internal sealed class NoReminders : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
