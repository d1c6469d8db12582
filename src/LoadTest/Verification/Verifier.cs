using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MyPay.LoadTest.Client;
using MyPay.LoadTest.Preparation;
using MyPay.LoadTest.Reporting;
using MyPay.LoadTest.Running;

namespace MyPay.LoadTest.Verification;

/// <summary>
/// After the run: sends every request the run left unanswered again with its key, as a client would until it gets an
/// answer; waits for recharges still in flight; reads every prepared customer's wallet and history and the ledger's
/// self-check (all as the operator), and holds them to what the client was told.
/// </summary>
public sealed class Verifier(MyPayClient node, TokenKeeper operatorTokens, int concurrency, Action<string> status)
{
    /// <summary>Entries per history page: the node's largest page.</summary>
    public const int HistoryPageSize = 100;

    /// <summary>Pages read per wallet at most (10 million entries), so a node that pages forever cannot hang the client.</summary>
    private const int HistoryPagesMax = 100_000;

    /// <summary>Acknowledged payments read back one by one through <c>GET /v1/payments/{id}</c>.</summary>
    private const int PaymentSampleSize = 100;

    private static readonly TimeSpan pollInterval = TimeSpan.FromMilliseconds(250);

    public async Task<IReadOnlyList<CheckResult>> VerifyAsync(
        IReadOnlyList<SentRequest> run, IReadOnlyCollection<Customer> customers, TimeSpan settleTimeout, int seed, CancellationToken cancellationToken)
    {
        var sent = await ResolveUnansweredAsync(run, customers, cancellationToken);
        var deadline = Stopwatch.GetTimestamp() + (long)(settleTimeout.TotalSeconds * Stopwatch.Frequency);
        var settled = await SettleAcceptedAsync(sent, deadline, cancellationToken);
        var customerIds = customers.Select(customer => customer.Id).ToList();
        var quiet = await WaitForQuietLedgerAsync(deadline, cancellationToken);

        status($"verifying: reading {Text.Count(customerIds.Count, "wallet")} and the history of each");
        var wallets = new ConcurrentDictionary<string, WalletRecord>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            customerIds,
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (customerId, token) => wallets[customerId] = await ReadWalletAsync(customerId, token));

        var audit = LedgerAudit.Audit(sent, settled, wallets);
        var ledger = await CheckLedgerAsync(quiet, cancellationToken);
        var payments = await ReadPaymentsBackAsync(sent, seed, cancellationToken);
        return [.. audit, ledger, payments];
    }

    /// <summary>
    /// Sends each request the run left unanswered (no answer, or a 5xx after its retries) again, unchanged and with its
    /// Idempotency-Key, and takes that answer as its final one, keeping what the run got in
    /// <see cref="SentRequest.OutcomeInRun"/>: one applied before answers its first result, one never applied is applied
    /// now or refused. So every request ends with an answer the ledger is held to, not only "at most once".
    /// </summary>
    private async Task<IReadOnlyList<SentRequest>> ResolveUnansweredAsync(
        IReadOnlyList<SentRequest> run, IReadOnlyCollection<Customer> customers, CancellationToken cancellationToken)
    {
        var resolved = run.ToArray();
        var unanswered = Enumerable.Range(0, resolved.Length).Where(i => resolved[i].IsUnknown).ToList();
        if (unanswered.Count == 0)
        {
            return resolved;
        }

        status(string.Create(CultureInfo.InvariantCulture, $"verifying: sending the {unanswered.Count} requests the run left unanswered again, with their keys"));
        var tokens = customers.ToDictionary(customer => customer.Id, customer => customer.Tokens, StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            unanswered,
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var request = resolved[i];
                var reply = await node.SendAsync(request, await tokens[request.CustomerId].GetAsync(token), token);
                resolved[i] = request.AnsweredBy(reply) with { OutcomeInRun = request.Outcome };
            });
        return resolved;
    }

    /// <summary>Polls each recharge answered 202 until the bank has decided it or the deadline passes: rechargeId → status.</summary>
    private async Task<IReadOnlyDictionary<string, string>> SettleAcceptedAsync(IReadOnlyList<SentRequest> sent, long deadline, CancellationToken cancellationToken)
    {
        var accepted = sent.Where(request => request.StatusCode == 202 && request.Reference is not null).Select(request => request.Reference!).ToList();
        var settled = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        if (accepted.Count == 0)
        {
            return settled;
        }

        status(string.Create(CultureInfo.InvariantCulture, $"verifying: waiting for {accepted.Count} accepted (202) recharges to finish"));
        await Parallel.ForEachAsync(
            accepted,
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (rechargeId, token) =>
            {
                while (true)
                {
                    var reply = await node.GetRechargeAsync(await operatorTokens.GetAsync(token), rechargeId, token);
                    var progress = reply.StatusCode == 200 ? reply.Read(LoadTestJson.Default.RechargeResponse).Status : reply.Outcome;
                    if (progress != "pending" || Stopwatch.GetTimestamp() >= deadline)
                    {
                        settled[rechargeId] = progress;
                        return;
                    }

                    await Task.Delay(pollInterval, token);
                }
            });
        return settled;
    }

    /// <summary>
    /// Waits until the ledger reports no recharge or remittance in flight (unanswered requests may still be finishing
    /// at the bank), or the deadline passes. Returns the last check read.
    /// </summary>
    private async Task<LedgerCheckResponse> WaitForQuietLedgerAsync(long deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            var check = await ReadLedgerCheckAsync(cancellationToken);
            if ((check.RechargesInFlight == 0 && check.RemittancesInFlight == 0 && check.SettlementsInFlight == 0) || Stopwatch.GetTimestamp() >= deadline)
            {
                return check;
            }

            status(string.Create(CultureInfo.InvariantCulture, $"verifying: {check.RechargesInFlight} recharges, {check.RemittancesInFlight} remittances and {check.SettlementsInFlight} settlements still in flight"));
            await Task.Delay(pollInterval, cancellationToken);
        }
    }

    private async Task<WalletRecord> ReadWalletAsync(string customerId, CancellationToken cancellationToken)
    {
        var token = await operatorTokens.GetAsync(cancellationToken);
        var wallet = await node.GetWalletAsync(token, customerId, cancellationToken);
        Require(wallet, $"reading wallet {customerId}");
        var history = new List<HistoryItem>();
        string? cursor = null;
        for (var page = 0; ; page++)
        {
            if (page == HistoryPagesMax)
            {
                throw new VerificationIncompleteException($"The history of wallet {customerId} is longer than {HistoryPagesMax} pages; the node's paging may be looping.");
            }

            var reply = await node.GetHistoryPageAsync(await operatorTokens.GetAsync(cancellationToken), customerId, HistoryPageSize, cursor, cancellationToken);
            Require(reply, $"reading page {page} of wallet {customerId}'s history");
            var items = reply.Read(LoadTestJson.Default.HistoryPage);
            history.AddRange(items.Items);
            if (items.NextCursor is null)
            {
                break;
            }

            if (items.NextCursor == cursor)
            {
                throw new VerificationIncompleteException($"The history of wallet {customerId} returned cursor {cursor} twice.");
            }

            cursor = items.NextCursor;
        }

        return new WalletRecord(history, wallet.Read(LoadTestJson.Default.WalletResponse).Balance);
    }

    private async Task<CheckResult> CheckLedgerAsync(LedgerCheckResponse beforeReading, CancellationToken cancellationToken)
    {
        var check = await ReadLedgerCheckAsync(cancellationToken);
        var failures = new List<string>();
        if (check.Total != 0)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"the ledger sums to {check.Total} won, not 0"));
        }

        if (!check.Consistent)
        {
            failures.Add($"the node reports it inconsistent: {string.Join(" ", check.Differences)}");
        }

        var inFlight = beforeReading.RechargesInFlight + beforeReading.RemittancesInFlight + beforeReading.SettlementsInFlight;
        var detail = inFlight == 0
            ? "consistent, sums to 0"
            : string.Create(CultureInfo.InvariantCulture, $"consistent, sums to 0 ({inFlight} requests were still in flight when the settle time ran out)");
        return LedgerAudit.Result("the ledger balances (GET /v1/ledger/check)", failures, detail);
    }

    /// <summary>A sample of acknowledged payments, chosen by the seed, read back by id: each exists with its payer, merchant and amount.</summary>
    private async Task<CheckResult> ReadPaymentsBackAsync(IReadOnlyList<SentRequest> sent, int seed, CancellationToken cancellationToken)
    {
        var payments = sent.Where(request => request.Kind == RequestKind.Payment && request.IsAcknowledged && request.Reference is not null).ToArray();
        new Random(seed).Shuffle(payments);
        var sample = payments.Take(PaymentSampleSize).ToList();
        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(
            sample,
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (request, token) =>
            {
                var reply = await node.GetPaymentAsync(await operatorTokens.GetAsync(token), request.Reference!, token);
                if (reply.StatusCode != 200)
                {
                    failures.Add($"payment {request.Reference} (key {request.IdempotencyKey}) reads as {reply.Outcome}");
                    return;
                }

                var payment = reply.Read(LoadTestJson.Default.PaymentResponse);
                if (payment.PayerId != request.CustomerId || payment.MerchantId != request.MerchantId || payment.Amount != request.AmountWon)
                {
                    failures.Add(
                        $"payment {request.Reference} reads as {payment.Amount} won from {payment.PayerId} to {payment.MerchantId}; "
                        + $"the client paid {request.AmountWon} won from {request.CustomerId} to {request.MerchantId}");
                }
            });
        return LedgerAudit.Result(
            "acknowledged payments read back by id",
            [.. failures],
            string.Create(CultureInfo.InvariantCulture, $"{sample.Count:N0} of {payments.Length:N0} read back with their payer, merchant and amount"));
    }

    private async Task<LedgerCheckResponse> ReadLedgerCheckAsync(CancellationToken cancellationToken)
    {
        var reply = await node.CheckLedgerAsync(await operatorTokens.GetAsync(cancellationToken), cancellationToken);
        Require(reply, "reading the ledger check");
        return reply.Read(LoadTestJson.Default.LedgerCheckResponse);
    }

    private static void Require(Reply reply, string what)
    {
        if (reply.StatusCode != 200)
        {
            throw new VerificationIncompleteException($"Verification could not finish: {what} answered {reply.Outcome}.");
        }
    }
}

/// <summary>Verification could not read what it needs; the run is not verified (a failure, exit code 1).</summary>
public sealed class VerificationIncompleteException(string message) : Exception(message);
