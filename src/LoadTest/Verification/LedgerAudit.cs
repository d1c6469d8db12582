using System.Globalization;
using MyPay.LoadTest.Client;
using MyPay.LoadTest.Running;

namespace MyPay.LoadTest.Verification;

/// <summary>What the ledger must show for one request, given its final answer.</summary>
public enum Expectation
{
    /// <summary>Acknowledged (200, 201, or a 202 whose recharge succeeded): exactly one entry of its kind, amount and id.</summary>
    ExactlyOnce,

    /// <summary>Refused (4xx, or a 202 whose recharge failed at the bank): no entry.</summary>
    Never,

    /// <summary>Unanswered (timeout, network error, 5xx): retried with the same key, so at most one entry.</summary>
    AtMostOnce,

    /// <summary>Answered 202 and still pending after the settle time: the client cannot tell yet.</summary>
    StillPending,
}

/// <summary>A customer's wallet as read at the end: its history, oldest last, and its balance.</summary>
public sealed record WalletRecord(IReadOnlyList<HistoryItem> History, long BalanceWon);

/// <summary>One PASS/FAIL line.</summary>
public sealed record CheckResult(string Name, bool Passed, string Detail);

/// <summary>
/// Holds the wallets' histories to the requests the client sent. Pure: it reads what <see cref="Verifier"/> fetched,
/// so each rule can be tested on made-up histories.
/// </summary>
public static class LedgerAudit
{
    /// <summary>
    /// The node keys a payment's automatic top-up, and the payment it then makes, by steps derived from the payment's
    /// Idempotency-Key: <c>"{step} {key}"</c> (a space, which a client's key never holds).
    /// </summary>
    public const string AutoTopUpPrefix = "auto-top-up ";

    /// <inheritdoc cref="AutoTopUpPrefix"/>
    public const string AfterTopUpPrefix = "after-top-up ";

    /// <summary>Examples of failures named in a check's detail; the count is always given in full.</summary>
    private const int ExamplesMax = 5;

    public static Expectation Expect(SentRequest request, IReadOnlyDictionary<string, string> settledRecharges) => request switch
    {
        { StatusCode: 202 } => request.Reference is { } rechargeId && settledRecharges.TryGetValue(rechargeId, out var status)
            ? status switch
            {
                "succeeded" => Expectation.ExactlyOnce,
                "failed" => Expectation.Never,
                _ => Expectation.StillPending,
            }
            : Expectation.StillPending,
        { IsAcknowledged: true } => Expectation.ExactlyOnce,
        { IsUnknown: true } => Expectation.AtMostOnce,
        _ => Expectation.Never,
    };

    public static IReadOnlyList<CheckResult> Audit(
        IReadOnlyList<SentRequest> sent, IReadOnlyDictionary<string, string> settledRecharges, IReadOnlyDictionary<string, WalletRecord> wallets)
    {
        // Entries by (customer, key): where each request's money should show up.
        var entries = new Dictionary<(string CustomerId, string Key), List<HistoryItem>>();
        foreach (var (customerId, wallet) in wallets)
        {
            foreach (var item in wallet.History.Where(item => item.IdempotencyKey is not null))
            {
                var slot = (customerId, item.IdempotencyKey!);
                if (!entries.TryGetValue(slot, out var list))
                {
                    entries[slot] = list = [];
                }

                list.Add(item);
            }
        }

        IReadOnlyList<HistoryItem> EntriesOf(SentRequest request) =>
            entries.TryGetValue((request.CustomerId, request.IdempotencyKey), out var list) ? list : [];

        var expected = sent.Select(request => (Request: request, Expectation: Expect(request, settledRecharges))).ToList();
        return
        [
            Answered(sent),
            ExactlyOnce(expected, EntriesOf),
            Never(expected, EntriesOf),
            AtMostOnce(expected, EntriesOf),
            NoKeyTwice(wallets),
            EveryEntryExplained(sent, wallets),
            WalletsEqualHistory(wallets),
        ];
    }

    /// <summary>
    /// Every request has an answer: those the run left unanswered were sent again with their keys after it (by
    /// <see cref="Verifier"/>), and each got one. A request still unanswered then is a failure, and is held to "at most once".
    /// </summary>
    private static CheckResult Answered(IReadOnlyList<SentRequest> sent)
    {
        var resent = sent.Where(request => request.OutcomeInRun is not null).ToList();
        var failures = sent
            .Where(request => request.IsUnknown)
            .Select(request => $"{request.Kind} {request.IdempotencyKey} is still unanswered ({request.Outcome}{(request.OutcomeInRun is { } inRun ? $"; in the run: {inRun}" : "")})")
            .ToList();
        var inRun = string.Join(", ", resent.GroupBy(request => request.OutcomeInRun!, StringComparer.Ordinal).OrderByDescending(group => group.Count()).Select(group => $"{group.Key}: {group.Count()}"));
        var detail = resent.Count == 0
            ? "the run answered every request"
            : Count(resent.Count, "request", "requests") + $" left unanswered by the run ({inRun}), sent again with their keys: "
              + string.Create(CultureInfo.InvariantCulture, $"{resent.Count(request => request.IsAcknowledged)} acknowledged, {resent.Count(request => request.IsRefused)} refused");
        return Result("every request is answered, if need be when sent again with its key", failures, detail);
    }

    private static CheckResult ExactlyOnce(List<(SentRequest Request, Expectation Expectation)> expected, Func<SentRequest, IReadOnlyList<HistoryItem>> entriesOf)
    {
        var acknowledged = expected.Where(pair => pair.Expectation is Expectation.ExactlyOnce or Expectation.StillPending).ToList();
        var failures = new List<string>();
        foreach (var (request, expectation) in acknowledged)
        {
            var found = entriesOf(request);
            if (expectation == Expectation.StillPending)
            {
                failures.Add($"{request.Kind} {request.IdempotencyKey} was accepted (202) and is still pending");
            }
            else if (found.Count != 1)
            {
                failures.Add($"{request.Kind} {request.IdempotencyKey} ({request.Outcome}) is in the ledger {found.Count} times");
            }
            else if (Mismatch(request, found[0]) is { } mismatch)
            {
                failures.Add(mismatch);
            }
        }

        return Result(
            "every acknowledged request is in the ledger exactly once",
            failures,
            Count(acknowledged.Count, "acknowledged request", "acknowledged requests") + " found once, with the right kind, amount and id");
    }

    private static CheckResult Never(List<(SentRequest Request, Expectation Expectation)> expected, Func<SentRequest, IReadOnlyList<HistoryItem>> entriesOf)
    {
        var refused = expected.Where(pair => pair.Expectation == Expectation.Never).Select(pair => pair.Request).ToList();
        var failures = refused
            .Where(request => entriesOf(request).Count > 0)
            .Select(request => $"{request.Kind} {request.IdempotencyKey} was refused ({request.Outcome}) but is in the ledger {entriesOf(request).Count} times")
            .ToList();
        return Result("no refused request moved money", failures, Count(refused.Count, "refused request", "refused requests") + ", none in the ledger");
    }

    private static CheckResult AtMostOnce(List<(SentRequest Request, Expectation Expectation)> expected, Func<SentRequest, IReadOnlyList<HistoryItem>> entriesOf)
    {
        var unanswered = expected.Where(pair => pair.Expectation == Expectation.AtMostOnce).Select(pair => pair.Request).ToList();
        var failures = new List<string>();
        var applied = 0;
        foreach (var request in unanswered)
        {
            var found = entriesOf(request);
            if (found.Count > 1)
            {
                failures.Add($"{request.Kind} {request.IdempotencyKey} ({request.Outcome}) is in the ledger {found.Count} times");
            }
            else if (found.Count == 1 && Mismatch(request, found[0], checkReference: false) is { } mismatch)
            {
                failures.Add(mismatch);
            }

            applied += found.Count == 1 ? 1 : 0;
        }

        return Result(
            "unanswered requests are in the ledger at most once",
            failures,
            Count(unanswered.Count, "unanswered request", "unanswered requests") + string.Create(CultureInfo.InvariantCulture, $": {applied} applied once, {unanswered.Count - applied} not applied"));
    }

    private static CheckResult NoKeyTwice(IReadOnlyDictionary<string, WalletRecord> wallets)
    {
        var failures = wallets.Values
            .SelectMany(wallet => wallet.History)
            .Where(item => item.IdempotencyKey is not null)
            .GroupBy(item => item.IdempotencyKey!, StringComparer.Ordinal)
            .Where(group => group.Count() > 1)
            .Select(group => $"key {group.Key} is in the ledger {group.Count()} times ({string.Join(", ", group.Select(item => item.EntryId))})")
            .ToList();
        return Result("no Idempotency-Key is in the ledger twice", failures, "every key appears at most once");
    }

    /// <summary>Every entry in a prepared customer's wallet is one of the client's requests, or the automatic top-up of one of its payments.</summary>
    private static CheckResult EveryEntryExplained(IReadOnlyList<SentRequest> sent, IReadOnlyDictionary<string, WalletRecord> wallets)
    {
        var known = sent.ToDictionary(request => (request.CustomerId, request.IdempotencyKey), request => request);
        var failures = new List<string>();
        var entries = 0;
        var autoTopUps = 0;
        foreach (var (customerId, wallet) in wallets)
        {
            foreach (var item in wallet.History)
            {
                entries++;
                var key = item.IdempotencyKey;
                if (key is not null && known.TryGetValue((customerId, key), out var request) && item.Kind == KindOf(request.Kind))
                {
                    continue;
                }

                if (PaymentKeyOfTopUpStep(key, item.Kind) is { } paymentKey
                    && known.TryGetValue((customerId, paymentKey), out var payment) && payment.Kind == RequestKind.Payment)
                {
                    autoTopUps += item.Kind == "recharge" ? 1 : 0;
                    continue;
                }

                failures.Add($"wallet {customerId} has an unexplained {item.Kind} entry {item.EntryId} of {item.Amount} won (key {key ?? "none"})");
            }
        }

        return Result(
            "every wallet entry is one of the client's requests",
            failures,
            Count(entries, "entry", "entries") + string.Create(CultureInfo.InvariantCulture, $" explained ({autoTopUps} automatic top-ups of payments)"));
    }

    private static CheckResult WalletsEqualHistory(IReadOnlyDictionary<string, WalletRecord> wallets)
    {
        var failures = wallets
            .Where(pair => pair.Value.History.Sum(item => item.Amount) != pair.Value.BalanceWon)
            .Select(pair => $"wallet {pair.Key} holds {pair.Value.BalanceWon} won; its history sums to {pair.Value.History.Sum(item => item.Amount)} won")
            .ToList();
        return Result("each wallet's balance equals the sum of its history", failures, Count(wallets.Count, "wallet", "wallets") + " checked, all agree");
    }

    private static string? Mismatch(SentRequest request, HistoryItem item, bool checkReference = true)
    {
        var kind = KindOf(request.Kind);
        var amount = request.Kind == RequestKind.Recharge ? request.AmountWon : -request.AmountWon;
        if (item.Kind != kind || item.Amount != amount)
        {
            return $"{request.Kind} {request.IdempotencyKey} of {request.AmountWon} won is in the ledger as {item.Kind} of {item.Amount} won";
        }

        return checkReference && request.Reference is { } reference && item.RequestId != reference
            ? $"{request.Kind} {request.IdempotencyKey} was answered as {reference} but the ledger names {item.RequestId}"
            : null;
    }

    private static string KindOf(RequestKind kind) => kind == RequestKind.Recharge ? "recharge" : "payment";

    internal static CheckResult Result(string name, List<string> failures, string passedDetail) => failures.Count == 0
        ? new CheckResult(name, true, passedDetail)
        : new CheckResult(
            name,
            false,
            string.Create(CultureInfo.InvariantCulture, $"{failures.Count} failures, e.g. ") + string.Join("; ", failures.Take(ExamplesMax)));

    private static string Count(int count, string singular, string plural) =>
        string.Create(CultureInfo.InvariantCulture, $"{count:N0} {(count == 1 ? singular : plural)}");

    /// <summary>The payment's own key, for the recharge of its automatic top-up or the payment made after it; otherwise null.</summary>
    private static string? PaymentKeyOfTopUpStep(string? key, string kind) => (key, kind) switch
    {
        ({ } topUp, "recharge") when topUp.StartsWith(AutoTopUpPrefix, StringComparison.Ordinal) => topUp[AutoTopUpPrefix.Length..],
        ({ } after, "payment") when after.StartsWith(AfterTopUpPrefix, StringComparison.Ordinal) => after[AfterTopUpPrefix.Length..],
        _ => null,
    };
}
