using System.Text.Json.Serialization;
using MyPay.Silo.Events;
using MyPay.Silo.Storage;
using Orleans;

namespace MyPay.Grains.Members;

/// <summary>What a member grain keeps between activations.</summary>
[GenerateSerializer]
public sealed class MemberState : IPublishingState
{
    [Id(0)]
    public MemberProfile? Profile { get; set; }

    [Id(1)]
    public string PasswordHash { get; set; } = "";

    [Id(2)]
    public List<LinkedBankAccount> BankAccounts { get; set; } = [];

    /// <summary>The number of the last event on the member's stream.</summary>
    [Id(3)]
    public long EventSequence { get; set; }

    /// <summary>The events of the next write, and its commission history row if it changes a merchant's rate.</summary>
    [JsonIgnore]
    [field: NonSerialized]
    public PendingRecords Records { get; } = new();
}
