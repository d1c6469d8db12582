namespace MyPay.Grains.Members;

/// <summary>What a member grain keeps between activations.</summary>
public sealed class MemberState
{
    public MemberProfile? Profile { get; set; }

    public string PasswordHash { get; set; } = "";

    public List<LinkedBankAccount> BankAccounts { get; set; } = [];
}
