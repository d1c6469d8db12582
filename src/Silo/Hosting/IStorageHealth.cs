namespace MyPay.Silo.Hosting;

/// <summary>Whether grain storage can serve: reachable, and its schema migrated.</summary>
public interface IStorageHealth
{
    /// <summary>Null when ready; otherwise why not, in a sentence.</summary>
    Task<string?> CheckAsync(CancellationToken cancellationToken);
}

internal sealed class MemoryStorageHealth : IStorageHealth
{
    public Task<string?> CheckAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}
