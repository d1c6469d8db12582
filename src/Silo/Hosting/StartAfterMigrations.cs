using Microsoft.Extensions.Hosting;

namespace MyPay.Silo.Hosting;

/// <summary>
/// Starts a service that reads the database (the reminder poller) only once the migrations are applied, so a first
/// run does not poll tables that do not exist yet and log the failure.
/// </summary>
internal sealed class StartAfterMigrations(PostgresStartup startup, IHostedService service) : IHostedService
{
    private volatile bool started;

    /// <summary>The service started once the migrations are applied.</summary>
    public IHostedService Service => service;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await startup.EnsureMigratedAsync(cancellationToken);
        await service.StartAsync(cancellationToken);
        started = true;
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        started ? service.StopAsync(cancellationToken) : Task.CompletedTask;
}
