using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace MyPay.BankSimulator.Tests;

public sealed class FaultTests
{
    [Fact]
    public async Task Transfer_ErrorRateOne_Returns503AndAppliesNothing()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("004", errorRate: 1);

        using var response = await client.TransferAsync("down", from, to, 10_000);

        await response.AssertProblemAsync(503, "bank-unavailable");
        await client.ResetFaultsAsync();
        Assert.Equal(100_000, await client.BalanceAsync(from));
        Assert.Equal(0, await client.BalanceAsync(to));
        using var asked = await client.GetAsync("/transfers/down");
        await asked.AssertProblemAsync(404, "unknown-transfer");
    }

    [Theory]
    [InlineData(429, "too-many-requests")]
    [InlineData(408, "request-timeout")]
    public async Task TransferAndItsStatus_ErrorStatusSet_AnswerItAndApplyNothing(int status, string type)
    {
        // A bank may throttle (429) or time a request out (408) instead of being down: nothing is applied either way.
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.TransferOutcomeAsync("before", from, to, 1_000);
        await client.SetFaultsAsync("004", errorRate: 1, errorStatus: status);

        using var transfer = await client.TransferAsync("throttled", from, to, 10_000);
        using var asked = await client.GetAsync("/transfers/before");
        using var lookedUp = await client.GetAsync(from.Path);

        await transfer.AssertProblemAsync(status, type);
        await asked.AssertProblemAsync(status, type);
        await lookedUp.AssertProblemAsync(status, type);
        await client.ResetFaultsAsync();
        Assert.Equal(99_000, await client.BalanceAsync(from));
        using var never = await client.GetAsync("/transfers/throttled");
        await never.AssertProblemAsync(404, "unknown-transfer");
    }

    [Fact]
    public async Task Transfer_ErrorRateOneAtTheToBank_Returns503()
    {
        // Both banks of a transfer take part in it, so either one failing fails the request.
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("088", errorRate: 1);

        using var response = await client.TransferAsync("to-down", from, to, 10_000);

        await response.AssertProblemAsync(503, "bank-unavailable");
        Assert.Equal(100_000, await client.BalanceAsync(from));
    }

    [Fact]
    public async Task Transfer_FaultsAtAnUninvolvedBank_DoNotApply()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("020", errorRate: 1, lostResponseRate: 1);

        var outcome = await client.TransferOutcomeAsync("elsewhere", from, to, 10_000);

        Assert.Equal("succeeded", outcome.String("status"));
    }

    [Fact]
    public async Task Transfer_ErrorThenRetryWithTheSameId_AppliesOnce()
    {
        // What MyPay does with a 503: send the same request again once the bank is back.
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("004", errorRate: 1);
        using var failed = await client.TransferAsync("retry", from, to, 10_000);
        await failed.AssertProblemAsync(503, "bank-unavailable");
        await client.ResetFaultsAsync();

        var outcome = await client.TransferOutcomeAsync("retry", from, to, 10_000);

        Assert.Equal("succeeded", outcome.String("status"));
        Assert.Equal(90_000, await client.BalanceAsync(from));
    }

    [Fact]
    public async Task Transfer_LostResponseRateOne_ClientSeesAConnectionErrorButTheTransferIsApplied()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("004", lostResponseRate: 1);

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => client.TransferAsync("lost", from, to, 25_000));

        Assert.True(exception is HttpRequestException or IOException, $"Expected a connection error, got {exception}");
        await client.ResetFaultsAsync();
        var asked = await client.GetFromJsonAsync<JsonElement>("/transfers/lost");
        Assert.Equal("succeeded", asked.String("status"));
        Assert.Equal(75_000, await client.BalanceAsync(from));
        Assert.Equal(25_000, await client.BalanceAsync(to));
    }

    [Fact]
    public async Task Transfer_LostThenResent_ReturnsTheFirstOutcomeAndMovesOnce()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("088", lostResponseRate: 1);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.TransferAsync("resent", from, to, 25_000));
        await client.ResetFaultsAsync();

        var outcome = await client.TransferOutcomeAsync("resent", from, to, 25_000);

        Assert.Equal("succeeded", outcome.String("status"));
        Assert.Equal(75_000, await client.BalanceAsync(from));
    }

    [Fact]
    public async Task GetTransfer_FaultsOfItsBanks_Apply()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.TransferOutcomeAsync("asked", from, to, 1_000);

        await client.SetFaultsAsync("088", errorRate: 1);
        using var unavailable = await client.GetAsync("/transfers/asked");
        await unavailable.AssertProblemAsync(503, "bank-unavailable");

        await client.SetFaultsAsync("088", lostResponseRate: 1);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("/transfers/asked"));
    }

    [Fact]
    public async Task GetAccount_FaultsOfItsBank_Apply()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var account = await client.OpenAsync("004", "100-1", 0);

        await client.SetFaultsAsync("004", errorRate: 1);
        using var unavailable = await client.GetAsync(account.Path);
        await unavailable.AssertProblemAsync(503, "bank-unavailable");

        await client.SetFaultsAsync("004", lostResponseRate: 1);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync(account.Path));

        await client.SetFaultsAsync("088", errorRate: 1);
        await client.SetFaultsAsync("004");
        Assert.Equal(0, await client.BalanceAsync(account));
    }

    [Fact]
    public async Task Transfer_Latency_DelaysTheAnswerByBothBanks()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("004", latencyMs: 200);
        await client.SetFaultsAsync("088", latencyMs: 150);

        var elapsed = Stopwatch.StartNew();
        var outcome = await client.TransferOutcomeAsync("slow", from, to, 1_000);

        // Loose on purpose: at least the two latencies (less a timer's tick), never a tight upper bound.
        Assert.True(elapsed.ElapsedMilliseconds >= 340, $"Answered after {elapsed.ElapsedMilliseconds} ms; expected at least 350 ms.");
        Assert.Equal("succeeded", outcome.String("status"));
    }

    [Fact]
    public async Task GetAccount_Latency_DelaysTheAnswer()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var account = await client.OpenAsync("090", "3333-1", 0);
        await client.SetFaultsAsync("090", latencyMs: 250);

        var elapsed = Stopwatch.StartNew();
        await client.GetAccountAsync(account);

        Assert.True(elapsed.ElapsedMilliseconds >= 240, $"Answered after {elapsed.ElapsedMilliseconds} ms; expected at least 250 ms.");
    }

    [Fact]
    public async Task Transfer_ClientGivesUpDuringLatency_NothingIsApplied()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("004", latencyMs: 1_000);
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PostJsonAsync("/transfers", Http.TransferBody("abandoned", from, to, 1_000), giveUp.Token));

        // Past the latency the bank would have applied it, had it not seen the client leave.
        await Task.Delay(1_300);
        await client.ResetFaultsAsync();
        using var asked = await client.GetAsync("/transfers/abandoned");
        await asked.AssertProblemAsync(404, "unknown-transfer");
        Assert.Equal(100_000, await client.BalanceAsync(from));
    }

    [Fact]
    public async Task Faults_SameRandomSeed_SameSequenceOfFaults()
    {
        var first = await UnavailablePatternAsync(randomSeed: 7);
        var second = await UnavailablePatternAsync(randomSeed: 7);

        Assert.Equal(first, second);
        Assert.Contains("5", first, StringComparison.Ordinal);
        Assert.Contains("2", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Faults_ErrorRate_FailsAboutThatShareOfRequests()
    {
        var pattern = await UnavailablePatternAsync(randomSeed: 11, requests: 200, errorRate: 0.3);

        var unavailable = pattern.Count(status => status == '5');
        Assert.InRange(unavailable, 30, 90);
    }

    [Fact]
    public async Task PutFaults_Valid_ReturnsThemAndGetFaultsListsThem()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.SetFaultsAsync("081", latencyMs: 60_000, errorRate: 0.25, lostResponseRate: 1);

        var set = await response.Content.ReadFromJsonAsync<JsonElement>();
        AssertFaults(set, "081", 60_000, 0.25, 1);
        var all = await client.GetFromJsonAsync<JsonElement>("/faults");
        AssertFaults(all.EnumerateArray().Single(faults => faults.String("bankCode") == "081"), "081", 60_000, 0.25, 1);
        AssertFaults(all.EnumerateArray().Single(faults => faults.String("bankCode") == "004"), "004", 0, 0, 0);
    }

    [Fact]
    public async Task PutFaults_FieldsLeftOut_AreZero()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        await client.SetFaultsAsync("081", latencyMs: 100, errorRate: 0.5, lostResponseRate: 0.5);

        using var response = await client.SendJsonAsync(HttpMethod.Put, "/faults/081", """{"errorRate":0.1}""");

        AssertFaults(await response.Content.ReadFromJsonAsync<JsonElement>(), "081", 0, 0.1, 0);
    }

    [Fact]
    public async Task DeleteFaults_AfterFaultsWereSet_ResetsEveryBank()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 100_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("004", latencyMs: 5_000, errorRate: 1);
        await client.SetFaultsAsync("088", lostResponseRate: 1);

        await client.ResetFaultsAsync();

        var all = await client.GetFromJsonAsync<JsonElement>("/faults");
        Assert.All(all.EnumerateArray(), faults => AssertFaults(faults, faults.String("bankCode"), 0, 0, 0));
        Assert.Equal("succeeded", (await client.TransferOutcomeAsync("after-reset", from, to, 1)).String("status"));
    }

    [Theory]
    [InlineData("""{"latencyMs":-1}""", "latencyMs")]
    [InlineData("""{"latencyMs":60001}""", "latencyMs")]
    [InlineData("""{"errorRate":-0.01}""", "errorRate")]
    [InlineData("""{"errorRate":1.01}""", "errorRate")]
    [InlineData("""{"lostResponseRate":2}""", "lostResponseRate")]
    [InlineData("""{"errorStatus":500}""", "errorStatus")]
    [InlineData("""{"errorStatus":404}""", "errorStatus")]
    public async Task PutFaults_OutOfRange_Returns400AndChangesNothing(string body, string field)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.SendJsonAsync(HttpMethod.Put, "/faults/004", body);

        await response.AssertInvalidAsync(field);
        var all = await client.GetFromJsonAsync<JsonElement>("/faults");
        AssertFaults(all.EnumerateArray().Single(faults => faults.String("bankCode") == "004"), "004", 0, 0, 0);
    }

    [Theory]
    [InlineData("""{"errorRate":"0.5"}""")]
    [InlineData("""{"latencyMs":1.5}""")]
    [InlineData("""{"errorRate":"NaN"}""")]
    [InlineData("""{"latencyMs":""")]
    public async Task PutFaults_UnreadableBody_Returns400(string body)
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.SendJsonAsync(HttpMethod.Put, "/faults/004", body);

        await response.AssertProblemAsync(400, "malformed-request");
    }

    [Fact]
    public async Task PutFaults_UnknownBank_Returns404()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.SendJsonAsync(HttpMethod.Put, "/faults/999", """{"errorRate":1}""");

        await response.AssertProblemAsync(404, "unknown-bank");
    }

    [Fact]
    public async Task PutFaults_MalformedBankCode_Returns400()
    {
        await using var bank = new BankApp();
        using var client = bank.CreateClient();

        using var response = await client.SendJsonAsync(HttpMethod.Put, "/faults/kb", """{"errorRate":1}""");

        await response.AssertInvalidAsync("bankCode");
    }

    /// <summary>
    /// Sends transfers one at a time to a bank erring at this rate and returns one character per request:
    /// '2' for a 200, '5' for a 503.
    /// </summary>
    private static async Task<string> UnavailablePatternAsync(int randomSeed, int requests = 40, double errorRate = 0.5)
    {
        await using var bank = new BankApp(new Dictionary<string, string?> { ["Bank:RandomSeed"] = $"{randomSeed}" });
        using var client = bank.CreateClient();
        var from = await client.OpenAsync("004", "100-1", 1_000_000);
        var to = await client.OpenAsync("088", "200-1", 0);
        await client.SetFaultsAsync("004", errorRate: errorRate);

        var pattern = new char[requests];
        for (var index = 0; index < requests; index++)
        {
            using var response = await client.TransferAsync($"seeded-{index}", from, to, 1);
            pattern[index] = (int)response.StatusCode switch
            {
                200 => '2',
                503 => '5',
                var status => throw new InvalidOperationException($"Unexpected status {status}."),
            };
        }

        return new string(pattern);
    }

    private static void AssertFaults(JsonElement faults, string bankCode, int latencyMs, double errorRate, double lostResponseRate)
    {
        Assert.Equal(bankCode, faults.String("bankCode"));
        Assert.Equal(latencyMs, faults.GetProperty("latencyMs").GetInt32());
        Assert.Equal(errorRate, faults.GetProperty("errorRate").GetDouble());
        Assert.Equal(lostResponseRate, faults.GetProperty("lostResponseRate").GetDouble());
        Assert.Equal(503, faults.GetProperty("errorStatus").GetInt32());
    }
}
