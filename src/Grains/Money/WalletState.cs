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

    /// <summary>The number of the last event on the wallet's stream.</summary>
    [Id(2)]
    public long EventSequence { get; set; }

    /// <summary>Whether a recharge is pending, asked without giving an idle wallet a dictionary.</summary>
    [JsonIgnore]
    public bool HasPendingRecharges => pendingRechargesWon is { Count: > 0 };

    /// <summary>The journal entries, payment and recharge rows, reminder changes and operation keys of the next write.</summary>
    [JsonIgnore]
    public PendingRecords Records => records ??= new();

    // Both are created when first used: a silo holds many idle wallets, and each empty collection costs its bytes.
    // (Orleans copies the dictionary through its property, which carries the [Id].)
    [NonSerialized]
    private Dictionary<string, long>? pendingRechargesWon;

    [NonSerialized]
    private PendingRecords? records;
}
