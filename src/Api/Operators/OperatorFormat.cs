using System.Globalization;
using MyPay.Grains.Payments;
using MyPay.Grains.Settlement;

namespace MyPay.Api.Operators;

/// <summary>How the operators' pages write amounts, rates and times.</summary>
public static class OperatorFormat
{
    /// <summary>Whole won with thousands separators: <c>12,345 won</c>.</summary>
    public static string Won(long amountWon) => amountWon.ToString("N0", CultureInfo.InvariantCulture) + " won";

    /// <summary>A count with thousands separators.</summary>
    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Basis points as a percentage: 250 → <c>2.50%</c>.</summary>
    public static string Rate(long basisPoints) =>
        (basisPoints * 100m / Commission.BasisPointsPerWhole).ToString("0.00", CultureInfo.InvariantCulture) + "%";

    /// <summary>A time in the operators' time zone, to the second, with its offset: <c>2026-12-02 12:15:00 +09:00</c>.</summary>
    public static string Time(DateTimeOffset at, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(at, zone).ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);

    /// <summary>Times on the operators' pages are shown in the settlement's time zone (Asia/Seoul unless configured).</summary>
    public static TimeZoneInfo ZoneOf(SettlementOptions settlement) => TimeZoneInfo.FindSystemTimeZoneById(settlement.TimeZone);
}
