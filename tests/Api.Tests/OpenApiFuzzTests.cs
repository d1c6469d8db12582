using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Api.Hosting;
using MyPay.Api.Tests.Fuzzing;
using MyPay.Testing;
using Xunit.Abstractions;

namespace MyPay.Api.Tests;

/// <summary>
/// Every operation the node's own <c>/openapi/v1.json</c> lists, sent thousands of generated bad requests (see
/// <see cref="BadRequestGenerator"/>) as nobody, with a malformed token, as a customer, a merchant and the operator.
/// None may fail on the server (5xx); every refusal is problem+json with MyPay's type; and no money moves: the
/// members hold nothing and link no account, so whatever gets through has nothing to spend, and the ledger must
/// read the same before and after.
/// </summary>
public sealed class OpenApiFuzzTests(BankFixture fixture, ITestOutputHelper output) : IClassFixture<BankFixture>, IAsyncLifetime
{
    /// <summary>The generator's seed; the failure report names it, so a run can be repeated. Default 16, the issue that asked for this test.</summary>
    public const string SeedVariable = "MYPAY_FUZZ_SEED";

    /// <summary>How many requests a run sends. Default 2,000: about half a minute here, every operation some dozens of times.</summary>
    public const string RequestsVariable = "MYPAY_FUZZ_REQUESTS";

    private const int ConcurrentRequests = 4;

    private MyPayApp app = null!;

    public async Task InitializeAsync() => app = await fixture.StartNodeAsync();

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task EveryOperation_BadInput_IsAProblemAndMovesNoMoney()
    {
        var seed = ReadSetting(SeedVariable, 16);
        var requestCount = ReadSetting(RequestsVariable, 2_000);
        var customer = await app.RegisterAsync();
        var merchant = await app.RegisterAsync("merchant", "동네 빵집");
        var other = await app.RegisterAsync(name: "이서연");
        using var operatorClient = await app.OperatorAsync();
        using var anonymous = app.CreateClient();
        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var operations = OpenApiOperations.Read(document);
        var consumers = await operatorClient.GetFromJsonAsync<string[]>("/v1/events/consumers") ?? [];
        var generator = new BadRequestGenerator(seed, document, [customer.Id, merchant.Id, other.Id], consumers);
        var requests = Enumerable.Range(0, requestCount).Select(index => generator.Next(index, operations[index % operations.Count])).ToList();
        var tokens = new Dictionary<Caller, AuthenticationHeaderValue?>
        {
            [Caller.Anonymous] = null,
            [Caller.MalformedToken] = new("Bearer", "eyJhbGciOiJIUzI1NiJ9.e30.not-a-signature"),
            [Caller.Customer] = customer.Client.DefaultRequestHeaders.Authorization,
            [Caller.Merchant] = merchant.Client.DefaultRequestHeaders.Authorization,
            [Caller.Operator] = operatorClient.DefaultRequestHeaders.Authorization,
        };
        var before = await LedgerAsync(operatorClient, customer.Id, merchant.Id, other.Id);

        var failures = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        using var client = app.CreateClient();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentRequests }, async (request, cancellationToken) =>
        {
            using var message = ToMessage(request, tokens[request.Caller]);
            using var response = await client.SendAsync(message, cancellationToken);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, count) => count + 1);
            if (await WrongAnswerAsync(response) is { } wrong)
            {
                failures.Add($"{request}\n    → {status}: {wrong}");
            }
        });

        var after = await LedgerAsync(operatorClient, customer.Id, merchant.Id, other.Id);
        TestReport.WriteLine(
            output,
            $"OpenAPI fuzz: {requests.Count} requests to {operations.Count} operations, seed {seed} ({SeedVariable}; {RequestsVariable} sets the count); "
            + $"answers: {string.Join(", ", statuses.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key}×{pair.Value}"))}; wrong answers: {failures.Count}.");
        foreach (var failure in failures.OrderBy(failure => failure, StringComparer.Ordinal).Take(200))
        {
            output.WriteLine(failure);
        }

        Assert.True(operations.Count >= 30, $"The document lists only {operations.Count} operations.");
        Assert.True(failures.IsEmpty, $"{failures.Count} wrong answers (seed {seed}); the first ones:\n" + string.Join("\n", failures.OrderBy(failure => failure, StringComparer.Ordinal).Take(15)));
        Assert.Equal(before, after);
        Assert.True(after.Consistent, "The ledger check is not consistent after the fuzz.");
    }

    /// <summary>What is wrong with an answer, or null: a server fault, or a refusal that is not MyPay's problem+json.</summary>
    private static async Task<string?> WrongAnswerAsync(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        if (status >= 500)
        {
            return Shorten(body);
        }

        if (status < 400)
        {
            return null;
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content type {response.Content.Headers.ContentType?.MediaType ?? "none"}: {Shorten(body)}";
        }

        try
        {
            using var problem = JsonDocument.Parse(body);
            var type = problem.RootElement.TryGetProperty("type", out var typeProperty) ? typeProperty.GetString() : null;
            var statusProperty = problem.RootElement.TryGetProperty("status", out var declared) ? declared.GetInt32() : 0;
            return type?.StartsWith(Problems.TypeBase, StringComparison.Ordinal) == true && statusProperty == status ? null : $"not MyPay's problem: {Shorten(body)}";
        }
        catch (JsonException)
        {
            return $"not JSON: {Shorten(body)}";
        }
    }

    private static HttpRequestMessage ToMessage(FuzzRequest request, AuthenticationHeaderValue? token)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(request.PathAndQuery, UriKind.Relative));
        message.Headers.Authorization = token;
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
        }

        return message;
    }

    /// <summary>The ledger's self-check and what the members and the bank hold: no request of the fuzz may change any of it.</summary>
    private async Task<LedgerState> LedgerAsync(HttpClient operatorClient, params string[] memberIds)
    {
        var check = await operatorClient.GetFromJsonAsync<JsonElement>("/v1/ledger/check");
        var balances = new List<long>();
        foreach (var memberId in memberIds)
        {
            balances.Add(await operatorClient.BalanceAsync(memberId));
        }

        return new LedgerState(
            check.GetProperty("consistent").GetBoolean(),
            check.GetProperty("total").GetInt64(),
            check.GetProperty("entries").GetInt64(),
            check.GetProperty("corporateCash").GetInt64(),
            await fixture.CorporateBalanceAsync(),
            string.Join(", ", balances));
    }

    private static int ReadSetting(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    private static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "…";

    private sealed record LedgerState(bool Consistent, long TotalWon, long Entries, long CorporateCashWon, long BankCorporateWon, string MemberBalancesWon);
}
