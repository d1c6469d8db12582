using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using MyPay.LoadTest.Metrics;
using MyPay.LoadTest.Verification;

namespace MyPay.LoadTest.Reporting;

/// <summary>Everything a run reports: the same numbers as the table and as <c>--json</c>.</summary>
public sealed record RunReport
{
    public required string Scenario { get; init; }

    public required string RunId { get; init; }

    public required int Seed { get; init; }

    public required string NodeUrl { get; init; }

    public required int Customers { get; init; }

    public required int Merchants { get; init; }

    public required int Concurrency { get; init; }

    /// <summary>The paced rate (<c>--rate</c>), or null for closed loop.</summary>
    public int? RatePerSecond { get; init; }

    public required double WarmupSeconds { get; init; }

    /// <summary>The measured part, from the end of the warm-up to the last answer.</summary>
    public required double DurationSeconds { get; init; }

    public required long Requests { get; init; }

    public required long Ok { get; init; }

    public required IReadOnlyDictionary<string, long> OkByStatus { get; init; }

    public required long Errors { get; init; }

    /// <summary>Errors by status and problem type ("422 insufficient-funds"), or "timeout" / "network (...)" when no answer came.</summary>
    public required IReadOnlyDictionary<string, long> ErrorsByStatus { get; init; }

    /// <summary>For each kind of error, what the first one said.</summary>
    public required IReadOnlyDictionary<string, string> ErrorExamples { get; init; }

    public required long Retries { get; init; }

    public required long AutoTopUps { get; init; }

    public required double ThroughputPerSecond { get; init; }

    public required LatencyReport LatencyMs { get; init; }

    public string? EndedEarly { get; init; }

    /// <summary>When the workers started (UTC): second 0 of <see cref="Timeline"/>.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Answers second by second from <see cref="StartedAt"/>, warm-up included, each in the second it came.</summary>
    public required IReadOnlyList<TimelineSecond> Timeline { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }

    public required VerificationReport Verification { get; init; }
}

public sealed record LatencyReport(double P50, double P90, double P99, double Max, double Mean)
{
    public static LatencyReport From(LatencyHistogram histogram) => new(
        Milliseconds(histogram.ValueAtPercentile(50)),
        Milliseconds(histogram.ValueAtPercentile(90)),
        Milliseconds(histogram.ValueAtPercentile(99)),
        Milliseconds(histogram.MaxMicroseconds),
        Math.Round(histogram.MeanMicroseconds / 1000, 3));

    private static double Milliseconds(long microseconds) => Math.Round(microseconds / 1000.0, 3);
}

public sealed record VerificationReport(bool Passed, IReadOnlyList<CheckResult> Checks, string? Incomplete = null)
{
    public static VerificationReport From(IReadOnlyList<CheckResult> checks) => new(checks.All(check => check.Passed), checks);
}

/// <summary>Writes a report as the table a person reads, or as one JSON object for machines.</summary>
public static class ReportWriter
{
    public static string Table(RunReport report)
    {
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        void Row(string name, string value) => text.Append(culture, $"  {name,-14}  {value}\n");

        text.Append(culture, $"MyPay load test: {report.Scenario}\n");
        Row("run", string.Create(culture, $"{report.RunId}, seed {report.Seed}, node {report.NodeUrl}"));
        Row("load", $"{Text.Count(report.Concurrency, "worker")}, {Text.Count(report.Customers, "customer")}, {Text.Count(report.Merchants, "merchant")}"
            + (report.RatePerSecond is { } paced ? string.Create(culture, $", paced at {paced:N0} req/s (latency from when each request was due)") : ""));
        Row("duration", string.Create(culture, $"{report.DurationSeconds:F2} s measured, after {report.WarmupSeconds:0.#} s warm-up")
            + (report.EndedEarly is null ? "" : $" (ended early: {report.EndedEarly})"));
        Row("requests", report.Requests.ToString("N0", culture));
        Row("ok", report.Ok.ToString("N0", culture) + Breakdown(report.OkByStatus));
        Row("errors", report.Errors.ToString("N0", culture) + Breakdown(report.ErrorsByStatus));
        foreach (var (outcome, example) in report.ErrorExamples)
        {
            Row("", $"e.g. {outcome}: {example}");
        }
        Row("retries", report.Retries.ToString("N0", culture));
        Row("auto top-ups", report.AutoTopUps.ToString("N0", culture));
        Row("throughput", string.Create(culture, $"{report.ThroughputPerSecond:N1} req/s"));
        var latency = report.LatencyMs;
        Row("latency (ms)", string.Create(culture, $"p50 {latency.P50:F2}  p90 {latency.P90:F2}  p99 {latency.P99:F2}  max {latency.Max:F2}  mean {latency.Mean:F2}"));
        foreach (var warning in report.Warnings)
        {
            text.Append(culture, $"WARNING {warning}\n");
        }

        text.Append("verification\n");
        foreach (var check in report.Verification.Checks)
        {
            text.Append(culture, $"  {(check.Passed ? "PASS" : "FAIL")}  {check.Name}: {check.Detail}\n");
        }

        if (report.Verification.Incomplete is { } incomplete)
        {
            text.Append(culture, $"  FAIL  verification could not finish: {incomplete}\n");
        }

        text.Append(report.Verification.Passed ? "result: PASS\n" : "result: FAIL\n");
        return text.ToString();
    }

    /// <summary>Relaxed escaping: the report goes to a terminal or a file, never into HTML, so "client's" stays readable.</summary>
    private static readonly JsonSerializerOptions jsonOptions = new(ReportJson.Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, TypeInfoResolver = ReportJson.Default };

    public static string Json(RunReport report) => JsonSerializer.Serialize(report, (JsonTypeInfo<RunReport>)jsonOptions.GetTypeInfo(typeof(RunReport)));

    private static string Breakdown(IReadOnlyDictionary<string, long> counts) => counts.Count == 0
        ? ""
        : "  (" + string.Join(", ", counts.Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.Key}: {pair.Value:N0}"))) + ")";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(RunReport))]
internal sealed partial class ReportJson : JsonSerializerContext;
