using Orleans;

namespace MyPay.Grains.Members;

/// <summary>What a member grain keeps between activations.</summary>
[GenerateSerializer]
public sealed class MemberState
{
    [Id(0)]
    public MemberProfile? Profile { get; set; }

    [Id(1)]
    public string PasswordHash { get; set; } = "";

    [Id(2)]
    public List<LinkedBankAccount> BankAccounts { get; set; } = [];
}
