using System.Text.Json.Serialization;
using MyPay.Silo.Events;
using MyPay.Silo.Storage;
using Orleans;

namespace MyPay.Grains.Money;

/// <summary>What a wallet keeps between activations.</summary>
[GenerateSerializer]
public sealed class WalletState : IPublishingState
{
    [Id(0)]
    public long BalanceWon { get; set; }

    /// <summary>
    /// Recharges accepted but not yet settled with the bank, by recharge id, with their amounts. They count
    /// against the balance cap, so concurrent recharges can never together take a wallet over it.
    /// </summary>
    [Id(1)]
    public Dictionary<string, long> PendingRechargesWon { get => pendingRechargesWon ??= []; set => pendingRechargesWon = value; }

    /// <summary>
    /// Credits the wallet has accepted but not yet received, by remittance id, with their amounts: a member's remittance
    /// reserves its room under the cap here before the sender is debited, so concurrent remittances (and recharges) can
    /// never together take the wallet over the cap.
    /// </summary>
    [Id(3)]
    public Dictionary<string, long> IncomingWon { get => incomingWon ??= []; set => incomingWon = value; }

    /// <summary>The number of the last event on the wallet's stream.</summary>
    [Id(2)]
    public long EventSequence { get; set; }

    /// <summary>Whether a recharge is pending, asked without giving an idle wallet a dictionary.</summary>
    [JsonIgnore]
    public bool HasPendingRecharges => pendingRechargesWon is { Count: > 0 };

    /// <summary>What may still come in besides the balance, and so counts against the cap: recharges in flight and credits accepted.</summary>
    [JsonIgnore]
    public long PromisedWon => (pendingRechargesWon?.Values.Sum() ?? 0) + (incomingWon?.Values.Sum() ?? 0);

    /// <summary>The journal entries, payment and recharge rows, reminder changes and operation keys of the next write.</summary>
    [JsonIgnore]
    public PendingRecords Records => records ??= new();

    // They are created when first used: a silo holds many idle wallets, and each empty collection costs its bytes.
    // (Orleans copies the dictionary through its property, which carries the [Id].)
    [NonSerialized]
    private Dictionary<string, long>? pendingRechargesWon;

    [NonSerialized]
    private Dictionary<string, long>? incomingWon;

    [NonSerialized]
    private PendingRecords? records;
}
