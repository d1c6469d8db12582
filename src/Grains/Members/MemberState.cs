using System.Text.Json.Serialization;
using MyPay.Silo.Storage;
using Orleans;

namespace MyPay.Grains.Members;

/// <summary>What a member grain keeps between activations.</summary>
[GenerateSerializer]
public sealed class MemberState : IRecordingState
{
    [Id(0)]
    public MemberProfile? Profile { get; set; }

    [Id(1)]
    public string PasswordHash { get; set; } = "";

    [Id(2)]
    public List<LinkedBankAccount> BankAccounts { get; set; } = [];

    /// <summary>The commission history row of the next write, if it changes a merchant's rate.</summary>
    [JsonIgnore]
    [field: NonSerialized]
    public PendingRecords Records { get; } = new();
}
