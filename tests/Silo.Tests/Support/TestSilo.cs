namespace MyPay.Silo.Tests.Support;

/// <summary>Limits and names every silo test uses.</summary>
public static class TestSilo
{
    /// <summary>How long any await in a test may take before the test fails instead of hanging.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static string NewKey() => Guid.NewGuid().ToString("N");
}
