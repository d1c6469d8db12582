using Microsoft.Extensions.Options;
using MyPay.BankSimulator.Hosting;

namespace MyPay.BankSimulator.Faults;

/// <summary>
/// The faults in force, per bank code, and the random numbers that decide which request suffers them.
/// A request that involves two banks (a transfer between them) suffers both: their latencies add up,
/// as a request would wait at each, and each bank draws its own error and lost response.
/// </summary>
public sealed class FaultInjector(IOptions<BankOptions> options, TimeProvider time, ILogger<FaultInjector> logger)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, FaultSettings> settingsByBank = new(StringComparer.Ordinal);

    // Guarded by gate: Random is not thread-safe, and one shared sequence is what makes a seed repeatable.
    private readonly Random random = options.Value.RandomSeed is { } seed ? new Random(seed) : new Random();

    public FaultSettings Get(string bankCode)
    {
        lock (gate)
        {
            return settingsByBank.GetValueOrDefault(bankCode, FaultSettings.None);
        }
    }

    public void Set(string bankCode, FaultSettings settings)
    {
        lock (gate)
        {
            settingsByBank[bankCode] = settings;
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            settingsByBank.Clear();
        }
    }

    /// <summary>
    /// Draws this request's fault from the banks it involves, then waits their latency. The draw comes
    /// first so that a change of settings during the wait does not change what this request suffers.
    /// A client that gives up during the wait cancels it, and nothing is applied.
    /// </summary>
    public async Task<Injection> InjectAsync(IReadOnlyCollection<string> bankCodes, CancellationToken cancellationToken)
    {
        var latencyMs = 0;
        var fault = InjectedFault.None;
        var errorStatus = StatusCodes.Status503ServiceUnavailable;
        lock (gate)
        {
            var involved = bankCodes
                .Distinct(StringComparer.Ordinal)
                .Select(bankCode => settingsByBank.GetValueOrDefault(bankCode, FaultSettings.None))
                .ToList();
            foreach (var settings in involved)
            {
                latencyMs += settings.LatencyMs;
                if (random.NextDouble() < settings.ErrorRate)
                {
                    fault = InjectedFault.BankUnavailable;
                    errorStatus = settings.ErrorStatus;
                }
            }

            if (fault == InjectedFault.None && involved.Any(settings => random.NextDouble() < settings.LostResponseRate))
            {
                fault = InjectedFault.LostResponse;
            }
        }

        if (fault != InjectedFault.None || latencyMs > 0)
        {
            FaultLog.FaultInjected(logger, fault, latencyMs, bankCodes);
        }

        if (latencyMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(latencyMs), time, cancellationToken);
        }

        return new Injection(fault, errorStatus);
    }
}
