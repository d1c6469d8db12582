using System.Collections.Frozen;

namespace MyPay.BankSimulator.Banks;

/// <summary>
/// The banks of the simulated network, by their three-digit Korean bank code (금융기관 코드). The list
/// is fixed in code: MyPay's client is written against these codes, and a bank cannot join at runtime.
/// </summary>
public static class BankDirectory
{
    public const int CodeLength = 3;

    private static readonly FrozenDictionary<string, string> NamesByCode = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["002"] = "KDB산업은행",
        ["003"] = "IBK기업은행",
        ["004"] = "KB국민은행",
        ["007"] = "Sh수협은행",
        ["011"] = "NH농협은행",
        ["020"] = "우리은행",
        ["023"] = "SC제일은행",
        ["027"] = "한국씨티은행",
        ["031"] = "iM뱅크",
        ["032"] = "부산은행",
        ["034"] = "광주은행",
        ["035"] = "제주은행",
        ["037"] = "전북은행",
        ["039"] = "경남은행",
        ["045"] = "새마을금고",
        ["048"] = "신협",
        ["071"] = "우체국",
        ["081"] = "하나은행",
        ["088"] = "신한은행",
        ["089"] = "케이뱅크",
        ["090"] = "카카오뱅크",
        ["092"] = "토스뱅크",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Every bank, ordered by code.</summary>
    public static IReadOnlyList<Bank> All { get; } =
        [.. NamesByCode.OrderBy(entry => entry.Key, StringComparer.Ordinal).Select(entry => new Bank(entry.Key, entry.Value))];

    /// <summary>Three ASCII digits: the shape of a code, whether or not a bank has it.</summary>
    public static bool IsWellFormed(string bankCode) => bankCode.Length == CodeLength && bankCode.All(char.IsAsciiDigit);

    public static bool Exists(string bankCode) => NamesByCode.ContainsKey(bankCode);

    public sealed record Bank(string BankCode, string Name);
}
