using System.Globalization;

namespace MyPay.LoadTest.Reporting;

/// <summary>Numbers as people read them: thousands separated, nouns agreeing with their count.</summary>
public static class Text
{
    /// <summary>"1 customer", "50 customers", "1,234 requests". Nouns that add "s" only.</summary>
    public static string Count(long count, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{count:N0} {noun}{(count == 1 ? "" : "s")}");
}
