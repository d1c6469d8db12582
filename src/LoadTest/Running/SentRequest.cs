using System.Collections.Concurrent;
using MyPay.LoadTest.Client;

namespace MyPay.LoadTest.Running;

public enum RequestKind
{
    Recharge,
    Payment,
}

/// <summary>
/// One money-moving request as the client saw it end: what it asked for, under which Idempotency-Key, and the final
/// answer. <see cref="Reference"/> is the payment or recharge id a 2xx named; <see cref="MerchantId"/> whom a payment paid.
/// <see cref="OutcomeInRun"/> is set when the run left it unanswered and verification sent it again with its key: what
/// the run got, while the status and outcome are the later answer's. <see cref="ToppedUp"/>: a payment the node topped the
/// wallet up for first.
/// </summary>
public sealed record SentRequest(
    string CustomerId, RequestKind Kind, string IdempotencyKey, long AmountWon, int StatusCode, string Outcome, string? Reference, string? MerchantId = null,
    string? OutcomeInRun = null, bool ToppedUp = false)
{
    /// <summary>A request about to be sent, with no answer yet.</summary>
    public static SentRequest ToSend(string customerId, RequestKind kind, string idempotencyKey, long amountWon, string? merchantId = null) =>
        new(customerId, kind, idempotencyKey, amountWon, StatusCode: 0, Outcome: "not sent", Reference: null, merchantId);

    /// <summary>
    /// This request with <paramref name="reply"/> as its final answer: the recharge or payment id a 2xx names, and for a
    /// payment whether the node had to top the wallet up first (its body read once, on the load client's hot path).
    /// </summary>
    public SentRequest AnsweredBy(Reply reply)
    {
        var answered = this with { StatusCode = reply.StatusCode, Outcome = reply.Outcome, Reference = null, ToppedUp = false };
        if (!reply.IsSuccess)
        {
            return answered;
        }

        if (Kind == RequestKind.Recharge)
        {
            return answered with { Reference = reply.Read(LoadTestJson.Default.RechargeResponse).RechargeId };
        }

        var payment = reply.Read(LoadTestJson.Default.PaymentResponse);
        return answered with { Reference = payment.PaymentId, ToppedUp = payment.ToppedUp is > 0 };
    }

    /// <summary>The node said it was done (200, 201) or accepted it (202): it must be in the ledger, once.</summary>
    public bool IsAcknowledged => StatusCode is >= 200 and < 300;

    /// <summary>No answer, or a 5xx: it may or may not have been applied, and may be applied at most once.</summary>
    public bool IsUnknown => StatusCode is 0 or >= 500;

    /// <summary>A 4xx: the node refused it, so nothing may have moved.</summary>
    public bool IsRefused => StatusCode is >= 400 and < 500;
}

/// <summary>Every money-moving request of a run, preparation included, for verification at the end.</summary>
public sealed class RequestLog
{
    private readonly ConcurrentQueue<SentRequest> requests = new();

    public int Count => requests.Count;

    public void Add(SentRequest request) => requests.Enqueue(request);

    public IReadOnlyList<SentRequest> Snapshot() => [.. requests];
}
