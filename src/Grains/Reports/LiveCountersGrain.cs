using System.Text.Json;
using MyPay.Grains.Banking;
using MyPay.Grains.Diagnostics;
using MyPay.Grains.Events;
using MyPay.Silo.Events;
using Orleans;
using Orleans.Concurrency;
using Orleans.Streams.Core;

namespace MyPay.Grains.Reports;

/// <summary>One second of money moved, as the live view shows it (by the second its events happened).</summary>
[GenerateSerializer]
public sealed record LiveSecond(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] int Payments,
    [property: Id(2)] long PaymentVolumeWon,
    [property: Id(3)] int Refunds,
    [property: Id(4)] long RefundVolumeWon,
    [property: Id(5)] int Recharges,
    [property: Id(6)] long RechargeVolumeWon);

/// <summary>
/// The operator's live view: payments a second over the last <see cref="LiveCountersGrain.RateSeconds"/> seconds, the
/// volume of the last minute, the bank commands still waiting for the bank's answer, and the minute second by second
/// (oldest first; seconds with nothing moved are left out).
/// </summary>
[GenerateSerializer]
public sealed record LiveCounters(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] double PaymentsPerSecond,
    [property: Id(2)] long PaymentsLastMinute,
    [property: Id(3)] long PaymentVolumeLastMinuteWon,
    [property: Id(4)] long BankCommandsInFlight,
    [property: Id(5)] IReadOnlyList<LiveSecond> Seconds);

/// <summary>The live counters, one grain for the whole service (<see cref="OutboxSubscriptions.ConsumerKey"/>).</summary>
public interface ILiveCountersGrain : IOutboxConsumer
{
    Task<LiveCounters> Read();
}

/// <summary>
/// Keeps the live counters from every wallet's events as they are delivered (one grain, as every outbox consumer):
/// the last minute, rebuilt from the events themselves, a few additions in memory each. An event counts once
/// (<see cref="LiveWindow"/>) however often it is delivered, and the window starts empty when the grain activates.
/// Bank commands in flight are read from the firmbanking index, at most once a second.
/// </summary>
[ImplicitStreamSubscription(DomainEvents.WalletNamespace, OutboxSubscriptions.StreamIdMapperName)]
[Reentrant]
public sealed class LiveCountersGrain(TimeProvider clock, FirmbankingQueries firmbanking) : Grain, ILiveCountersGrain, IStreamSubscriptionObserver
{
    /// <summary>Payments a second are averaged over this many seconds: 10.</summary>
    public const int RateSeconds = 10;

    private static readonly TimeSpan InFlightMaxAge = TimeSpan.FromSeconds(1);

    private readonly LiveWindow window = new(MoneyMetrics.Moved);
    private (long Count, DateTimeOffset ReadAt)? inFlight;

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => this.ResumeOutboxAsync(handleFactory);

    public async Task<LiveCounters> Read()
    {
        var now = clock.GetUtcNow();
        if (inFlight is not { } known || now - known.ReadAt > InFlightMaxAge)
        {
            inFlight = known = (await firmbanking.InFlightCountAsync(CancellationToken.None), now);
        }

        var seconds = window.Seconds(now);
        var recent = seconds.Where(second => second.At > now.AddSeconds(-RateSeconds)).Sum(second => second.Payments);
        return new LiveCounters(
            now, (double)recent / RateSeconds, seconds.Sum(second => (long)second.Payments), seconds.Sum(second => second.PaymentVolumeWon), known.Count, seconds);
    }

    public Task Consume(IReadOnlyList<OutboxEvent> events)
    {
        var now = clock.GetUtcNow();
        foreach (var published in events)
        {
            window.Count(published, now);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// The last minute of money moved, a bucket per second of the events' own time. Each bucket keeps the ids of the events
/// it counted, so an event delivered again counts once; events older than the minute are not counted, and buckets age
/// out as the minute moves on.
/// </summary>
/// <param name="counted">Told the kind (<c>payment</c>, <c>refund</c> or <c>recharge</c>) and amount of each event counted, once.</param>
public sealed class LiveWindow(Action<string, long>? counted = null)
{
    /// <summary>How far back the window reaches: 60 seconds.</summary>
    public const int Length = 60;

    private readonly Dictionary<long, Bucket> buckets = [];
    private long forgottenUpTo;

    /// <summary>Counts a payment, refund or recharge event in its second; false when it is another kind, too old, or counted already.</summary>
    public bool Count(OutboxEvent published, DateTimeOffset now)
    {
        var second = published.OccurredAt.ToUnixTimeSeconds();
        if (second <= now.ToUnixTimeSeconds() - Length || !Counted.Contains(published.Type))
        {
            return false;
        }

        Forget(now);
        if (!buckets.TryGetValue(second, out var bucket))
        {
            buckets[second] = bucket = new Bucket();
        }

        if (!bucket.EventIds.Add(published.EventId))
        {
            return false;
        }

        var amount = AmountOf(published);
        switch (published.Type)
        {
            case DomainEvents.PaymentCompleted:
                bucket.Payments++;
                bucket.PaymentVolumeWon += amount;
                counted?.Invoke("payment", amount);
                break;
            case DomainEvents.PaymentRefunded:
                bucket.Refunds++;
                bucket.RefundVolumeWon += amount;
                counted?.Invoke("refund", amount);
                break;
            default:
                bucket.Recharges++;
                bucket.RechargeVolumeWon += amount;
                counted?.Invoke("recharge", amount);
                break;
        }

        return true;
    }

    /// <summary>The seconds of the window that moved money, oldest first.</summary>
    public IReadOnlyList<LiveSecond> Seconds(DateTimeOffset now)
    {
        Forget(now);
        return [.. buckets.OrderBy(entry => entry.Key).Select(entry => new LiveSecond(
            DateTimeOffset.FromUnixTimeSeconds(entry.Key), entry.Value.Payments, entry.Value.PaymentVolumeWon,
            entry.Value.Refunds, entry.Value.RefundVolumeWon, entry.Value.Recharges, entry.Value.RechargeVolumeWon))];
    }

    private static readonly HashSet<string> Counted = [DomainEvents.PaymentCompleted, DomainEvents.PaymentRefunded, DomainEvents.RechargeCompleted];

    private static long AmountOf(OutboxEvent published)
    {
        using var payload = JsonDocument.Parse(published.Payload);
        return payload.RootElement.GetProperty("amountWon").GetInt64();
    }

    private void Forget(DateTimeOffset now)
    {
        var oldest = now.ToUnixTimeSeconds() - Length;
        if (oldest <= forgottenUpTo)
        {
            return;
        }

        forgottenUpTo = oldest;
        foreach (var second in buckets.Keys.Where(second => second <= oldest).ToList())
        {
            buckets.Remove(second);
        }
    }

    private sealed class Bucket
    {
        public readonly HashSet<string> EventIds = new(StringComparer.Ordinal);
        public int Payments;
        public long PaymentVolumeWon;
        public int Refunds;
        public long RefundVolumeWon;
        public int Recharges;
        public long RechargeVolumeWon;
    }
}
