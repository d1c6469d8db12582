using MyPay.Silo.Storage.Postgres;
using Npgsql;
using Orleans.Runtime;

namespace MyPay.Silo.Grains;

/// <summary>
/// Faults of the cluster or the database rather than of the work asked: they pass by themselves, and the same work
/// tried again later succeeds. The API answers them 503 (retry with the same key); an outbox consumer keeps its events
/// for a later delivery instead of dead-lettering them.
/// </summary>
public static class Outages
{
    /// <summary>
    /// The database could not be reached, here or anywhere beneath: grain storage says so itself, while Orleans'
    /// reminder table lets the driver's exception through, wrapped.
    /// </summary>
    public static bool IsDatabaseUnavailable(Exception exception) =>
        exception is StorageUnavailableException
        || (exception is NpgsqlException && PostgresGrainStorage.IsUnavailable(exception))
        || (exception.InnerException is { } inner && IsDatabaseUnavailable(inner));

    /// <summary>Whether <paramref name="exception"/> is a <typeparamref name="TException"/>, or wraps one.</summary>
    public static bool Beneath<TException>(Exception? exception)
        where TException : Exception =>
        exception is TException || (exception?.InnerException is { } inner && Beneath<TException>(inner));

    /// <summary>
    /// Whether <paramref name="exception"/> is an outage: the database unreachable or behind, a grain overloaded, a grain
    /// call unanswered within the response timeout, or the silo holding a grain unreachable (until the cluster declares
    /// it dead and the grain activates on a live one).
    /// </summary>
    public static bool IsOutage(Exception exception) =>
        IsDatabaseUnavailable(exception)
        || Beneath<StorageOverloadedException>(exception)
        || exception is GrainOverloadedException or TimeoutException or OrleansMessageRejectionException;
}
