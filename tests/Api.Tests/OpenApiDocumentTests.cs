using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using MyPay.Testing;
using Xunit.Abstractions;

namespace MyPay.Api.Tests;

/// <summary>
/// The API document at <c>/openapi/v1.json</c> is one a client can build on: Redocly's recommended rules find no error
/// in it, it says which operations need the bearer token (and the node agrees), which take an Idempotency-Key, and what
/// every 4xx looks like.
/// </summary>
public sealed partial class OpenApiDocumentTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    /// <summary>Where <c>./mypay test</c> (scripts/openapi-lint.sh) says the pinned Redocly CLI is.</summary>
    private const string RedoclyVariable = "MYPAY_REDOCLY";

    private static readonly TimeSpan LintTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Operations anyone may call; every other one needs a bearer token.</summary>
    private static readonly string[] PublicOperations = ["POST /v1/members", "POST /v1/auth/token", "GET /health/live", "GET /health/ready"];

    /// <summary>The operations that move money, each of which requires an Idempotency-Key.</summary>
    private static readonly string[] MoneyMovingOperations =
        ["POST /v1/payments", "POST /v1/payments/{paymentId}/refunds", "POST /v1/remittances", "POST /v1/members/{memberId}/wallet/recharge"];

    private static readonly string[] HttpMethodNames = ["get", "put", "post", "delete", "patch"];

    [Fact]
    public async Task Document_PassesRedoclyLint_WithNoErrors()
    {
        var redocly = FindRedocly();
        var folder = Directory.CreateTempSubdirectory("mypay-openapi-");
        try
        {
            var documentPath = Path.Combine(folder.FullName, "openapi.json");
            await File.WriteAllTextAsync(documentPath, await FetchDocumentAsync());

            var (exitCode, lintOutput) = await RunAsync(redocly, folder.FullName, "lint", documentPath, "--format=stylish");

            // The lint's closing lines: whether the document is valid, and how many errors and warnings it has.
            var closing = lintOutput.Split('\n').Select(line => line.Trim()).Where(line => SummaryLine().IsMatch(line)).ToList();
            foreach (var line in closing)
            {
                TestReport.WriteLine(output, $"OpenAPI document, redocly lint: {line}");
            }

            Assert.True(exitCode == 0 && closing.Any(line => line.Contains("is valid", StringComparison.Ordinal)), $"redocly lint exited with {exitCode}:\n{lintOutput}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Document_DeclaresTheBearerScheme_AndWhichOperationsNeedIt()
    {
        using var document = JsonDocument.Parse(await FetchDocumentAsync());
        var root = document.RootElement;

        var scheme = root.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        foreach (var (name, operation) in Operations(root))
        {
            var requirements = operation.TryGetProperty("security", out var security) ? security.EnumerateArray().ToList() : [];
            var needsToken = requirements.Count > 0 && requirements.All(requirement => requirement.TryGetProperty("bearer", out _));
            var isPublic = requirements.Count > 0 && requirements.Any(requirement => !requirement.EnumerateObject().Any());
            Assert.True(PublicOperations.Contains(name) ? isPublic : needsToken, $"{name}: security is {(requirements.Count == 0 ? "not declared" : security.GetRawText())}.");
            Assert.True(!needsToken || operation.GetProperty("responses").TryGetProperty("401", out _), $"{name} needs a token but declares no 401.");
        }
    }

    /// <summary>What the document says of each operation's token, the node enforces: without one, 401 exactly where a token is declared.</summary>
    [Fact]
    public async Task Document_Security_MatchesWhatTheNodeEnforces()
    {
        await using var app = new MyPayApp(database.ConnectionString);
        using var client = await app.CreateReadyClientAsync();
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));

        var mismatches = new List<string>();
        foreach (var (name, operation) in Operations(document.RootElement))
        {
            var method = name[..name.IndexOf(' ', StringComparison.Ordinal)];
            var path = RouteParameter().Replace(name[(method.Length + 1)..], "m1");
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            using var response = await client.SendAsync(request);

            var declaresToken = operation.TryGetProperty("security", out var security) && security.EnumerateArray().Any(requirement => requirement.TryGetProperty("bearer", out _));
            if (declaresToken != (response.StatusCode == HttpStatusCode.Unauthorized))
            {
                mismatches.Add($"{name}: the document {(declaresToken ? "requires" : "does not require")} a token; without one the node answered {(int)response.StatusCode}.");
            }
        }

        Assert.Empty(mismatches);
    }

    [Fact]
    public async Task Document_MoneyMovingOperations_RequireAnIdempotencyKey()
    {
        using var document = JsonDocument.Parse(await FetchDocumentAsync());

        var withKey = Operations(document.RootElement)
            .Where(entry => entry.Operation.TryGetProperty("parameters", out var parameters) && parameters.EnumerateArray().Any(parameter =>
                parameter.GetProperty("name").GetString() == "Idempotency-Key"
                && parameter.GetProperty("in").GetString() == "header"
                && parameter.GetProperty("required").GetBoolean()))
            .Select(entry => entry.Name)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(MoneyMovingOperations.Order(StringComparer.Ordinal), withKey);
    }

    [Fact]
    public async Task Document_EveryOperation_HasAnIdSummaryAndDescribedTag_AndProblemResponses()
    {
        using var document = JsonDocument.Parse(await FetchDocumentAsync());
        var root = document.RootElement;
        var describedTags = root.GetProperty("tags").EnumerateArray()
            .Where(tag => !string.IsNullOrWhiteSpace(tag.TryGetProperty("description", out var description) ? description.GetString() : null))
            .Select(tag => tag.GetProperty("name").GetString())
            .ToHashSet(StringComparer.Ordinal);

        var faults = new List<string>();
        var operationIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, operation) in Operations(root))
        {
            if (!operation.TryGetProperty("operationId", out var id) || !operationIds.Add(id.GetString() ?? ""))
            {
                faults.Add($"{name}: no operationId, or one another operation has.");
            }

            if (!operation.TryGetProperty("summary", out var summary) || string.IsNullOrWhiteSpace(summary.GetString()))
            {
                faults.Add($"{name}: no summary.");
            }

            if (!operation.TryGetProperty("tags", out var tags) || tags.GetArrayLength() == 0 || !tags.EnumerateArray().All(tag => describedTags.Contains(tag.GetString())))
            {
                faults.Add($"{name}: no tag, or a tag without a description.");
            }

            foreach (var response in operation.GetProperty("responses").EnumerateObject().Where(response => response.Name[0] is '4' or '5'))
            {
                var schema = response.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out var problem)
                    ? problem.GetProperty("schema").GetProperty("$ref").GetString()
                    : null;
                if (schema is not ("#/components/schemas/ProblemDetails" or "#/components/schemas/HttpValidationProblemDetails"))
                {
                    faults.Add($"{name} {response.Name}: not application/problem+json with a ProblemDetails schema.");
                }
            }

            if (!operation.GetProperty("responses").EnumerateObject().Any(response => response.Name[0] == '4') && name != "GET /health/live" && name != "GET /health/ready")
            {
                faults.Add($"{name}: no 4xx response.");
            }
        }

        Assert.Empty(faults);
    }

    private async Task<string> FetchDocumentAsync()
    {
        await using var app = new MyPayApp(database.ConnectionString);
        using var client = app.CreateClient();
        return await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));
    }

    /// <summary>Each operation of the document, named as "METHOD /path".</summary>
    private static IEnumerable<(string Name, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(operation => HttpMethodNames.Contains(operation.Name))
            .Select(operation => ($"{operation.Name.ToUpperInvariant()} {path.Name}", operation.Value)));

    /// <summary>The pinned Redocly CLI that ./mypay test installs (scripts/openapi-lint.sh), or the failure that says how to get it.</summary>
    private static string FindRedocly()
    {
        var configured = Environment.GetEnvironmentVariable(RedoclyVariable);
        if (!string.IsNullOrEmpty(configured) && File.Exists(configured))
        {
            return configured;
        }

        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var installed = Path.Combine(folder.FullName, "tools", "openapi-lint", "node_modules", ".bin", "redocly");
            if (File.Exists(Path.Combine(folder.FullName, "MyPay.sln")))
            {
                return File.Exists(installed)
                    ? installed
                    : throw new InvalidOperationException($"Redocly CLI is not installed at {installed}. Run the tests with ./mypay test, which installs it (scripts/openapi-lint.sh install).");
            }
        }

        throw new InvalidOperationException($"{RedoclyVariable} is not set and no MyPay.sln is above {AppContext.BaseDirectory}: run the tests with ./mypay test.");
    }

    /// <summary>Runs a command to its end (bounded), with what it printed on either stream.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(string command, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(command)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // No telemetry, update notice or colours: the run is offline and its output is read.
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        start.Environment["NO_COLOR"] = "1";
        start.Environment["FORCE_COLOR"] = "0";

        using var process = Process.Start(start)!;
        var standardOutput = process.StandardOutput.ReadToEndAsync();
        var standardError = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(LintTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} {string.Join(' ', arguments)} did not end within {LintTimeout.TotalSeconds} seconds.");
        }

        return (process.ExitCode, await standardOutput + await standardError);
    }

    /// <summary>Redocly's closing lines: "Woohoo! Your API description is valid." and "You have 3 warnings.", or "Validation failed with 2 errors and 3 warnings."</summary>
    [GeneratedRegex(@"Your API description is valid|Validation failed with|You have \d+ warnings?")]
    private static partial Regex SummaryLine();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
