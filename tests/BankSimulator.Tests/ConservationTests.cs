using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;

namespace MyPay.BankSimulator.Tests;

/// <summary>
/// Goal: under concurrency and every kind of fault at once, the bank neither creates nor destroys
/// money, and what it recorded for each request id is exactly what moved the balances. This is the
/// property MyPay's reconciliation relies on.
/// </summary>
public sealed class ConservationTests
{
    private const int RequestCount = 1_000;

    /// <summary>Of the requests, how many repeat an earlier request id with the same body, as a retrying client would.</summary>
    private const int RepeatCount = 100;

    private const int ConcurrentRequestsMax = 100;

    [Fact]
    public async Task Transfers_ThousandConcurrentUnderErrorsAndLostResponses_ConserveMoneyAndMatchTheirRecords()
    {
        await using var bank = new BankApp(new Dictionary<string, string?> { ["Bank:RandomSeed"] = "2026" });
        using var client = bank.CreateClient();
        var accounts = SeedAccounts.Read().Select(seeded => seeded.Account).Append(BankAccount.Corporate).ToList();
        var before = await BalancesAsync(client, accounts);
        foreach (var bankCode in accounts.Select(account => account.BankCode).Distinct())
        {
            await client.SetFaultsAsync(bankCode, errorRate: 0.3, lostResponseRate: 0.1);
        }

        var orders = RandomOrders(accounts, new Random(20_261_122));
        var answers = new ConcurrentBag<(Order Order, Answer Answer)>();
        using (var gate = new SemaphoreSlim(ConcurrentRequestsMax))
        {
            await Task.WhenAll(orders.Select(async order =>
            {
                await gate.WaitAsync();
                try
                {
                    answers.Add((order, await SendAsync(client, order)));
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await client.ResetFaultsAsync();
        var after = await BalancesAsync(client, accounts);
        var records = await RecordsAsync(client, orders.DistinctBy(order => order.RequestId));

        // Money is neither created nor destroyed (only the bank's fees on corporate transfers leave the accounts),
        // and no balance went below zero.
        var feesWon = records.Values.OfType<JsonElement>().Sum(record => record.GetProperty("fee").GetInt64());
        Assert.True(feesWon > 0, "Some transfers involved the corporate account and paid its fee.");
        Assert.Equal(before.Values.Sum() - feesWon, after.Values.Sum());
        Assert.All(after, balance => Assert.True(balance.Value >= 0, $"{balance.Key} is at {balance.Value} won."));

        // The balances are exactly the opening balances plus the recorded successes: nothing moved unrecorded, nothing twice.
        var expected = new Dictionary<BankAccount, long>(before);
        foreach (var (order, record) in records)
        {
            if (record is { } recorded)
            {
                Assert.Equal(order.AmountWon, recorded.GetProperty("amount").GetInt64());
                Assert.Equal(order.From.AccountNumber, recorded.GetProperty("from").String("accountNumber"));
                Assert.Equal(order.To.AccountNumber, recorded.GetProperty("to").String("accountNumber"));
                if (recorded.String("status") == "succeeded")
                {
                    expected[order.From] -= order.AmountWon;
                    expected[order.To] += order.AmountWon;
                    expected[BankAccount.Corporate] -= recorded.GetProperty("fee").GetInt64();
                }
            }
        }

        Assert.Equal(expected.OrderBy(balance => balance.Key.ToString()), after.OrderBy(balance => balance.Key.ToString()));

        // Every answer agrees with the record: a 200 is the recorded outcome, a lost answer was applied,
        // and an id the bank never recorded only ever got 503s.
        foreach (var (order, answer) in answers)
        {
            var record = records[order];
            switch (answer)
            {
                case Answer.Outcome outcome:
                    Assert.Equal(record?.GetRawText(), outcome.Json);
                    break;
                case Answer.ConnectionLost:
                    Assert.True(record is not null, $"The answer to {order.RequestId} was lost, so it must have been applied.");
                    break;
            }
        }

        // The run exercised what it claims to: successes, refusals, errors and lost answers all happened.
        var outcomes = answers.Select(answer => answer.Answer).OfType<Answer.Outcome>().Select(outcome => JsonDocument.Parse(outcome.Json).RootElement).ToList();
        Assert.Contains(outcomes, outcome => outcome.String("status") == "succeeded");
        Assert.Contains(outcomes, outcome => outcome.String("status") == "failed");
        Assert.InRange(answers.Count(answer => answer.Answer is Answer.Unavailable), RequestCount / 10, RequestCount * 8 / 10);
        Assert.InRange(answers.Count(answer => answer.Answer is Answer.ConnectionLost), RequestCount / 50, RequestCount * 3 / 10);
        Assert.Contains(records.Values, record => record is null);
    }

    /// <summary>
    /// Random transfers among the accounts, for amounts up to 400,000 won so that small accounts run dry
    /// and refuse some, then some repeats of them, shuffled.
    /// </summary>
    private static List<Order> RandomOrders(List<BankAccount> accounts, Random random)
    {
        var unique = new List<Order>();
        for (var index = 0; index < RequestCount - RepeatCount; index++)
        {
            var from = accounts[random.Next(accounts.Count)];
            var to = accounts.Where(account => account != from).ElementAt(random.Next(accounts.Count - 1));
            unique.Add(new Order($"conservation-{index}", from, to, random.Next(1, 400_001)));
        }

        var repeats = Enumerable.Range(0, RepeatCount).Select(_ => unique[random.Next(unique.Count)]);
        return [.. unique.Concat(repeats).OrderBy(_ => random.Next())];
    }

    private static async Task<Answer> SendAsync(HttpClient client, Order order)
    {
        try
        {
            using var response = await client.TransferAsync(order.RequestId, order.From, order.To, order.AmountWon);
            return (int)response.StatusCode switch
            {
                200 => new Answer.Outcome(await response.Content.ReadAsStringAsync()),
                503 => new Answer.Unavailable(),
                var status => throw new InvalidOperationException($"Transfer {order.RequestId} got {status}: {await response.Content.ReadAsStringAsync()}"),
            };
        }
        catch (HttpRequestException)
        {
            return new Answer.ConnectionLost();
        }
    }

    private static async Task<Dictionary<BankAccount, long>> BalancesAsync(HttpClient client, List<BankAccount> accounts)
    {
        var balances = new Dictionary<BankAccount, long>();
        foreach (var account in accounts)
        {
            balances[account] = await client.BalanceAsync(account);
        }

        return balances;
    }

    /// <summary>What the bank recorded for each order's request id; null when it says it never applied it.</summary>
    private static async Task<Dictionary<Order, JsonElement?>> RecordsAsync(HttpClient client, IEnumerable<Order> orders)
    {
        var records = new Dictionary<Order, JsonElement?>();
        foreach (var order in orders)
        {
            using var response = await client.GetAsync($"/transfers/{order.RequestId}");
            if ((int)response.StatusCode == 404)
            {
                await response.AssertProblemAsync(404, "unknown-transfer");
                records[order] = null;
            }
            else
            {
                Assert.Equal(200, (int)response.StatusCode);
                records[order] = await response.Content.ReadFromJsonAsync<JsonElement>();
            }
        }

        return records;
    }

    private sealed record Order(string RequestId, BankAccount From, BankAccount To, long AmountWon);

    private abstract record Answer
    {
        public sealed record Outcome(string Json) : Answer;

        public sealed record Unavailable : Answer;

        public sealed record ConnectionLost : Answer;
    }
}
