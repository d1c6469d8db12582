using Orleans;
using Orleans.Runtime;

namespace MyPay.Silo.Hosting;

/// <summary>
/// Holds the Orleans silo at its first lifecycle stage until the database is migrated, so the clustering and
/// reminder providers, which read their named queries when they start, never meet a missing table. It waits on
/// the same migration as <see cref="PostgresStartup"/> (whichever of the two starts first runs it), so the order
/// in which the host starts its services does not matter, and a node started before its database waits for it.
/// </summary>
internal sealed class MigrateBeforeSiloStarts(PostgresStartup startup) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(MigrateBeforeSiloStarts), ServiceLifecycleStage.First, startup.EnsureMigratedAsync);
}
