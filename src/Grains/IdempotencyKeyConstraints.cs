using MyPay.Silo.Grains;

namespace MyPay.Grains;

/// <summary>
/// The unique keys on a member's <c>Idempotency-Key</c> in MyPay's tables: one ledger entry and one recharge per member
/// and key (a payment is written only with its entry, which keeps its key). They outlive the operation keys that answer a repeated request (pruned after their retention), so a
/// request repeated after that retention is applied afresh, and its write breaks one of them: nothing of it is written,
/// and the key is to be refused as used too long ago.
/// </summary>
public static class IdempotencyKeyConstraints
{
    public static IReadOnlyList<string> Names { get; } =
        ["ledger_entry_member_id_idempotency_key_key", "recharge_member_id_idempotency_key_key"];

    /// <summary>Whether a write was refused because its request's key was used by the member before the retention.</summary>
    public static bool IsExpiredKey(RecordConflictException conflict) => Names.Contains(conflict.Constraint);
}
