using System.Security.Cryptography;
using System.Text;
using MyPay.Grains;
using MyPay.Silo.Grains;

namespace MyPay.Api.Hosting;

/// <summary>
/// The <c>Idempotency-Key</c> header every money-moving request carries. The key, with a digest of
/// the request it came with, becomes the grain's operation key: the same key and request return the
/// first result; the same key with another request is refused.
/// </summary>
public static class Idempotency
{
    public const string HeaderName = "Idempotency-Key";

    /// <summary>Longest key a client may send: 200 characters, leaving room for the suffixes that name a request's inner steps.</summary>
    public const int KeyLengthMax = 200;

    /// <summary>
    /// Reads and checks the header. Null with a problem when it is missing or malformed (1 to 200
    /// visible ASCII characters, as keys are echoed in logs and responses). A client's key never holds a space, so it never
    /// meets a key MyPay derives for a step of its own (<see cref="OperationKey.Derived"/>).
    /// </summary>
    public static OperationKey? TryRead(HttpRequest request, string canonicalRequest, out ProblemHttpResult? problem)
    {
        var key = request.Headers[HeaderName].ToString();
        if (key.Length is 0 or > KeyLengthMax || key.Any(character => character is < '!' or > '~'))
        {
            problem = Problems.Problem(
                StatusCodes.Status400BadRequest,
                "idempotency-key-required",
                "A valid Idempotency-Key header is required.",
                $"Send an {HeaderName} header of 1 to {KeyLengthMax} visible ASCII characters, unique per money-moving request.");
            return null;
        }

        problem = null;
        return new OperationKey(key, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
    }

    /// <summary>
    /// An id derived from what a request is about and its key (prefix and 24 hex digits), so a retry of the
    /// request reaches the same remittance or refund instead of starting another.
    /// </summary>
    public static string DerivedId(string prefix, string scope, OperationKey operation) =>
        prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{scope}\n{operation.Id}")))[..24];

    /// <summary>
    /// The 422 a money-moving request's failure is answered with when its key was misused — reused with another request,
    /// or used longer ago than keys are kept — with nothing moved either way; null for any other failure, which goes on.
    /// </summary>
    public static ProblemHttpResult? KeyProblem(OperationKey operation, Exception failure) => failure switch
    {
        OperationKeyReusedException => KeyReused(operation.Id),
        RecordConflictException conflict when IdempotencyKeyConstraints.IsExpiredKey(conflict) => KeyExpired(operation.Id),
        _ => null,
    };

    public static ProblemHttpResult KeyReused(string key) => Problems.Problem(
        StatusCodes.Status422UnprocessableEntity,
        "idempotency-key-reused",
        "The Idempotency-Key was already used with a different request.",
        $"Key '{key}' was first used with another request body; use a new key for a new request.");

    /// <summary>
    /// A key the member used longer ago than operation keys are kept (their retention): its first result is gone, and
    /// what MyPay keeps for ever (one ledger entry, payment and recharge per member and key) refused the request, with
    /// nothing moved (see <see cref="MyPay.Grains.IdempotencyKeyConstraints"/>).
    /// </summary>
    public static ProblemHttpResult KeyExpired(string key) => Problems.Problem(
        StatusCodes.Status422UnprocessableEntity,
        "idempotency-key-expired",
        "The Idempotency-Key was used more than the retention ago.",
        $"Key '{key}' was used longer ago than idempotency keys are kept, so its first result is gone and nothing was done; use a new key for a new request.");
}
