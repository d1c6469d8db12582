using System.Text.Json.Serialization;
using MyPay.Silo.Storage;
using Orleans;

namespace MyPay.Grains.Money;

/// <summary>What a wallet keeps between activations.</summary>
[GenerateSerializer]
public sealed class WalletState : IRecordingState
{
    [Id(0)]
    public long BalanceWon { get; set; }

    /// <summary>
    /// Recharges accepted but not yet settled with the bank, by recharge id, with their amounts. They count
    /// against the balance cap, so concurrent recharges can never together take a wallet over it.
    /// </summary>
    [Id(1)]
    public Dictionary<string, long> PendingRechargesWon { get; set; } = [];

    /// <summary>The journal entries, payment and recharge rows, reminder changes and operation keys of the next write.</summary>
    [JsonIgnore]
    [field: NonSerialized]
    public PendingRecords Records { get; } = new();
}
