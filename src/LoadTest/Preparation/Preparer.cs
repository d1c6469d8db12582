using System.Globalization;
using MyPay.LoadTest.Client;
using MyPay.LoadTest.Running;

namespace MyPay.LoadTest.Preparation;

/// <summary>
/// Prepares the run's members, a bounded number at a time: each customer is registered, signed in, given a bank
/// account in their own name at the bank simulator, links it, and has the wallet funded; each merchant is registered
/// and links an empty account of its own, so that settlement can pay it.
/// Names, emails and account numbers carry the run id, so runs against the same node never collide.
/// </summary>
public sealed class Preparer(MyPayClient node, BankClient bank, RequestLog log, string runId, string password)
{
    /// <summary>The bank every customer's account is at (KB국민은행).</summary>
    public const string BankCode = "004";

    public async Task<Cast> PrepareAsync(int customerCount, int merchantCount, long fundWon, int concurrency, Action<int, int> progress, CancellationToken cancellationToken)
    {
        var customers = new Customer[customerCount];
        var merchantIds = new string[merchantCount];
        var done = 0;
        var total = customerCount + merchantCount;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, total),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                if (index < customerCount)
                {
                    customers[index] = await PrepareCustomerAsync(index, fundWon, token);
                }
                else
                {
                    merchantIds[index - customerCount] = await PrepareMerchantAsync(index - customerCount, token);
                }

                progress(Interlocked.Increment(ref done), total);
            });
        return new Cast(customers, merchantIds);
    }

    private async Task<Customer> PrepareCustomerAsync(int index, long fundWon, CancellationToken cancellationToken)
    {
        var id = await RegisterAsync("customer", index, cancellationToken);
        var tokens = new TokenKeeper(node, Email("customer", index), password);
        var customer = new Customer(index, id, tokens);

        // The account number is this run's id and the customer's index: unique per run, digits and a dash as banks write them.
        await LinkNewAccountAsync("customer", index, id, tokens, string.Create(CultureInfo.InvariantCulture, $"{runId}-{index:D6}"), Funding.BankBalanceWon, cancellationToken);

        var recharges = Funding.Recharges(fundWon);
        for (var number = 0; number < recharges.Count; number++)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"lt-{runId}-fund-{index}-{number}");
            var request = SentRequest.ToSend(id, RequestKind.Recharge, key, recharges[number]);
            var reply = await node.SendAsync(request, await tokens.GetAsync(cancellationToken), cancellationToken);
            log.Add(request.AnsweredBy(reply));
            Require(reply, $"funding member {id} with {recharges[number]} won", 200, 202);
        }

        return customer;
    }

    private async Task<string> PrepareMerchantAsync(int index, CancellationToken cancellationToken)
    {
        var id = await RegisterAsync("merchant", index, cancellationToken);
        using var tokens = new TokenKeeper(node, Email("merchant", index), password);
        await LinkNewAccountAsync("merchant", index, id, tokens, string.Create(CultureInfo.InvariantCulture, $"{runId}-9{index:D6}"), 0, cancellationToken);
        return id;
    }

    /// <summary>Opens an account in the member's name at the bank simulator and links it.</summary>
    private async Task LinkNewAccountAsync(string type, int index, string id, TokenKeeper tokens, string accountNumber, long balanceWon, CancellationToken cancellationToken)
    {
        var opened = await bank.OpenAccountAsync(new OpenAccountRequest(BankCode, accountNumber, Name(type, index), balanceWon), cancellationToken);
        Require(opened, $"opening bank account {accountNumber} for {type} {index}", 201, 409);

        var linked = await node.LinkBankAccountAsync(id, await tokens.GetAsync(cancellationToken), new LinkRequest(BankCode, accountNumber), cancellationToken);
        Require(linked, $"linking bank account {accountNumber} to member {id}", 201, 200);
    }

    /// <summary>
    /// Registers a member and returns its id. Registration has no idempotency key: when a retried registration finds
    /// the email taken (409), the first attempt got through, and signing in tells the id.
    /// </summary>
    private async Task<string> RegisterAsync(string type, int index, CancellationToken cancellationToken)
    {
        var email = Email(type, index);
        var reply = await node.RegisterAsync(new RegisterRequest(type, Name(type, index), email, "Seoul", password), cancellationToken);
        if (reply.StatusCode == 201)
        {
            return reply.Read(LoadTestJson.Default.MemberCreated).Id;
        }

        if (reply.StatusCode == 409 && reply.Retries > 0)
        {
            using var tokens = new TokenKeeper(node, email, password);
            await tokens.GetAsync(cancellationToken);
            return tokens.Subject!;
        }

        throw new PreparationFailedException($"Registering {type} {index} ({email}) failed: {reply.Outcome}. {Detail(reply)}");
    }

    /// <summary>The member's name, which is also the bank account's holder name (at most 50 characters at the bank).</summary>
    private string Name(string type, int index) => string.Create(CultureInfo.InvariantCulture, $"LoadTest {runId} {(type == "merchant" ? 'M' : 'C')}{index:D6}");

    private string Email(string type, int index) => string.Create(CultureInfo.InvariantCulture, $"lt-{runId}-{type}-{index}@loadtest.mypay.example");

    private static void Require(Reply reply, string what, params int[] expected)
    {
        if (!expected.Contains(reply.StatusCode))
        {
            throw new PreparationFailedException($"{char.ToUpperInvariant(what[0])}{what[1..]} failed: {reply.Outcome}. {Detail(reply)}");
        }
    }

    private static string Detail(Reply reply) => reply.Body.Length > 300 ? reply.Body[..300] : reply.Body;
}

/// <summary>Preparation could not finish; the message names the step, the member and the answer.</summary>
public sealed class PreparationFailedException(string message) : Exception(message);
