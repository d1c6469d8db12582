using System.Text.Json;
using System.Text.Json.Serialization;

namespace MyPay.LoadTest.Client;

// The parts of MyPay's and the bank simulator's JSON this client reads and writes. Unknown fields are ignored,
// so the node may add fields freely; only a renamed or removed field breaks the load test.

public sealed record Problem(string? Type, string? Title, string? Detail);

public sealed record RegisterRequest(string Type, string Name, string Email, string Address, string Password);

public sealed record MemberCreated(string Id);

public sealed record TokenRequest(string Username, string Password);

public sealed record TokenResponse(string AccessToken, long ExpiresIn, string Subject);

public sealed record OpenAccountRequest(string BankCode, string AccountNumber, string HolderName, long Balance);

public sealed record LinkRequest(string BankCode, string AccountNumber);

public sealed record RechargeRequest(long Amount);

/// <summary><c>status</c> is "succeeded", "pending" or "failed".</summary>
public sealed record RechargeResponse(string RechargeId, long Amount, string Status, long? Balance);

public sealed record PayRequest(string MerchantId, long Amount);

public sealed record PaymentResponse(string PaymentId, string PayerId, string MerchantId, long Amount, long? Balance, long? ToppedUp);

public sealed record WalletResponse(long Balance);

/// <summary>One wallet change: <c>amount</c> is signed from the member's view (+ in, − out); <c>requestId</c> names the payment or recharge.</summary>
public sealed record HistoryItem(string Kind, long Amount, string? RequestId, string? IdempotencyKey, string EntryId);

public sealed record HistoryPage(IReadOnlyList<HistoryItem> Items, string? NextCursor);

public sealed record LedgerCheckResponse(bool Consistent, long Total, long RechargesInFlight, long RemittancesInFlight, long SettlementsInFlight, IReadOnlyList<string> Differences);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(MemberCreated))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(OpenAccountRequest))]
[JsonSerializable(typeof(LinkRequest))]
[JsonSerializable(typeof(RechargeRequest))]
[JsonSerializable(typeof(RechargeResponse))]
[JsonSerializable(typeof(PayRequest))]
[JsonSerializable(typeof(PaymentResponse))]
[JsonSerializable(typeof(WalletResponse))]
[JsonSerializable(typeof(HistoryPage))]
[JsonSerializable(typeof(LedgerCheckResponse))]
internal sealed partial class LoadTestJson : JsonSerializerContext;
