using System.Runtime;

namespace MyPay.Api.Hosting;

public static class IdleMemory
{
    /// <summary>The setting that leaves <see cref="IdleMemoryTrim"/> out (<c>off</c>): on by default.</summary>
    public const string TrimSetting = "MYPAY_IDLE_MEMORY_TRIM";

    public static IServiceCollection AddMyPayIdleMemoryTrim(this IServiceCollection services, IConfiguration configuration)
    {
        if (!string.Equals(configuration[TrimSetting], "off", StringComparison.OrdinalIgnoreCase))
        {
            services.AddHostedService<IdleMemoryTrim>();
        }

        return services;
    }
}

/// <summary>
/// Gives the memory the garbage collector keeps free back to the operating system once the node goes idle. After a
/// burst (a load test, 100,000 wallets activated) the server GC keeps its heap's free space committed for the next
/// allocations — about 130 MB beside 100,000 idle wallets — and an idle node allocates so little that no collection
/// runs to release it. Every <see cref="Interval"/> this looks at what the node allocated since its last look: under
/// <see cref="IdleAllocatedBytesMax"/> (idle) with more than <see cref="FreeCommittedBytesMin"/> committed beyond the
/// heap, it asks for one aggressive collection (blocking and compacting, it decommits what is free), then waits for
/// the node to be busy and idle again before another. A busy node is never paused by it.
/// <c>MYPAY_IDLE_MEMORY_TRIM=off</c> leaves it out.
/// </summary>
public sealed partial class IdleMemoryTrim(ILogger<IdleMemoryTrim> logger) : BackgroundService
{

    /// <summary>How often the node's allocations are looked at: 20 seconds.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A node that allocated less than this over an <see cref="Interval"/> is idle: 64 MB (3.2 MB a second). An idle
    /// node's timers, outbox polling and dashboard allocate well under 1 MB a second; a node serving even a hundred
    /// payments a second allocates more than 5.
    /// </summary>
    public const long IdleAllocatedBytesMax = 64L * 1024 * 1024;

    /// <summary>Below this much committed beyond the heap there is nothing worth a full collection: 32 MB.</summary>
    public const long FreeCommittedBytesMin = 32L * 1024 * 1024;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        var allocated = GC.GetTotalAllocatedBytes();
        var trimmedSinceBusy = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var allocatedNow = GC.GetTotalAllocatedBytes();
            var idle = allocatedNow - allocated < IdleAllocatedBytesMax;
            allocated = allocatedNow;
            trimmedSinceBusy &= idle;
            if (idle && !trimmedSinceBusy && FreeCommittedBytes() > FreeCommittedBytesMin)
            {
                var committedBefore = GC.GetGCMemoryInfo().TotalCommittedBytes;
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                var memory = GC.GetGCMemoryInfo();
                LogTrimmed(logger, (committedBefore - memory.TotalCommittedBytes) / (1024 * 1024), memory.HeapSizeBytes / (1024 * 1024), memory.PauseDurations[0].TotalMilliseconds);
                trimmedSinceBusy = true;
                allocated = GC.GetTotalAllocatedBytes();
            }
        }
    }

    /// <summary>What the GC holds committed beyond its heap, as of its last collection.</summary>
    private static long FreeCommittedBytes()
    {
        var memory = GC.GetGCMemoryInfo();
        return memory.TotalCommittedBytes - memory.HeapSizeBytes;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The node is idle: a full collection gave {ReleasedMb} MB back to the system (heap {HeapMb} MB, paused {PauseMs} ms)")]
    private static partial void LogTrimmed(ILogger logger, long releasedMb, long heapMb, double pauseMs);
}
