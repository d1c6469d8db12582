namespace MyPay.Silo.Grains;

/// <summary>
/// Makes a command idempotent: the runtime records <paramref name="Id"/> with the command's result in
/// the same transaction as the state change, under a unique constraint. A repeated id with the same
/// <paramref name="RequestHash"/> returns the first result without running the command again; with a
/// different hash it fails with <see cref="OperationKeyReusedException"/>.
/// </summary>
/// <param name="Id">The caller's key, such as an <c>Idempotency-Key</c> header (with room for a suffix naming a step). At most 255 characters.</param>
/// <param name="RequestHash">A digest of the request the key was first used with.</param>
[Orleans.GenerateSerializer]
[Orleans.Alias("mypay.operation-key")]
public sealed record OperationKey([property: Orleans.Id(0)] string Id, [property: Orleans.Id(1)] string RequestHash)
{
    public const int IdLengthMax = 255;

    /// <summary>
    /// A key the service derives for a step of its own, such as the top-up before a payment or a remittance's credit:
    /// <c>"{step} {subject}"</c>. Keys from outside (an <c>Idempotency-Key</c> header) must be visible characters without
    /// spaces, so a derived key can never be one a client chose, nor a client key one the service derives.
    /// </summary>
    public static OperationKey Derived(string step, string subject, string requestHash) => new($"{step} {subject}", requestHash);
}
