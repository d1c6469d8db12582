using System.ComponentModel.DataAnnotations;
using MyPay.Grains.Banking;
using Orleans;

namespace MyPay.Grains.Settlement;

/// <summary>
/// Where a merchant's settlement for one period stands. Pending: its payments and refunds are claimed and it waits for
/// a transfer (the merchant has no linked account, or the last transfer failed). Sending: a transfer is on its way
/// under a request id already stored. Paid: the bank moved it and it is posted. Carried: the period netted to nothing
/// or less, so nothing was claimed and its payments and refunds count in the next period.
/// </summary>
public enum SettlementStatus
{
    Pending,
    Sending,
    Paid,
    Carried,
}

/// <summary>A period of settlement: it includes the payments and refunds made before <see cref="Cutoff"/> not settled yet.</summary>
[GenerateSerializer]
public sealed record SettlementPeriod(string Id, DateTimeOffset Cutoff);

/// <summary>One merchant's settlement for one period.</summary>
[GenerateSerializer]
public sealed record SettlementRecord(
    string SettlementId,
    string MerchantId,
    SettlementPeriod Period,
    long NetWon,
    int Items,
    SettlementStatus Status,
    int Attempt,
    BankAccountNumber? To,
    string? FirmbankingRequestId,
    long BankFeeWon,
    string? FailureReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? PaidAt)
{
    public bool IsFinal => Status is SettlementStatus.Paid or SettlementStatus.Carried;

    /// <summary>"stl:" merchant ":" period: the same merchant and period always name the same settlement.</summary>
    public static string IdFor(string merchantId, SettlementPeriod period) => $"stl:{merchantId}:{period.Id}";
}

/// <summary>A settlement's row as written with the grain's state; <see cref="EntryIds"/> are the journal entries it claims, with its first write only.</summary>
public sealed record SettlementWrite(SettlementRecord Settlement, IReadOnlyList<string> EntryIds);

/// <summary>A payment or refund a settlement includes: what the merchant is owed for it (negative for a refund) and the commission in it.</summary>
public sealed record SettlementLine(string EntryId, string Kind, string PaymentId, long AmountWon, long CommissionWon, long NetWon, DateTimeOffset At);

/// <summary>When merchants are settled. Bound from the <c>Settlement</c> section.</summary>
public sealed class SettlementOptions : IValidatableObject
{
    public const string SectionName = "Settlement";

    /// <summary>How long a period is. Default one day; seconds in tests.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "31.00:00:00")]
    public TimeSpan Period { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The time of day, in <see cref="TimeZone"/>, at which periods end (from which every later cut-off is a whole number of periods). Default 00:00.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "23:59:59")]
    public TimeSpan CutoffTimeOfDay { get; set; } = TimeSpan.Zero;

    /// <summary>The time zone of <see cref="CutoffTimeOfDay"/>. Default Asia/Seoul (no daylight saving time, so a day is always 24 hours).</summary>
    [Required]
    public string TimeZone { get; set; } = "Asia/Seoul";

    /// <summary>How often a merchant's unpaid settlement (no linked account, a failed or unanswered transfer) is tried again. Default 1 minute.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Merchants settled at once in a run. Default 1: settlement is background work, and one merchant at a time leaves the
    /// machine to payments (pay kept 89% of its rate while settling, against 65–73% with 2 or 8 at once, in the bench's
    /// pay-while-settling, 2026-12-01); raise it to settle faster where payments are quiet at the cut-off.
    /// </summary>
    [Range(1, 256)]
    public int ConcurrentMerchants { get; set; } = 1;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
        {
            yield return new ValidationResult($"Settlement:TimeZone '{TimeZone}' is not a time zone this machine knows (an IANA name such as Asia/Seoul).", [nameof(TimeZone)]);
        }
    }

    /// <summary>The latest cut-off at or before <paramref name="now"/>: cut-offs fall every <see cref="Period"/> from <see cref="CutoffTimeOfDay"/> on 2000-01-01 in <see cref="TimeZone"/>.</summary>
    public DateTimeOffset CutoffAtOrBefore(DateTimeOffset now)
    {
        var anchor = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(new DateTime(2000, 1, 1).Add(CutoffTimeOfDay), TimeZoneInfo.FindSystemTimeZoneById(TimeZone)), TimeSpan.Zero);
        var periods = (now - anchor).Ticks / Period.Ticks;
        return anchor + TimeSpan.FromTicks(periods * Period.Ticks);
    }

    /// <summary>The period that ended at <paramref name="cutoff"/>, named by its cut-off in UTC.</summary>
    public static SettlementPeriod Ending(DateTimeOffset cutoff) =>
        new(cutoff.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), cutoff);

    /// <summary>An operator's run now: everything made before <paramref name="now"/>, named as such.</summary>
    public static SettlementPeriod RunNow(DateTimeOffset now) =>
        new("now-" + now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture), now);
}
