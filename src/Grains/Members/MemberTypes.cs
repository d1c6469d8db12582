using Orleans;

namespace MyPay.Grains.Members;

public enum MemberType
{
    Customer,
    Merchant,
}

public enum MemberStatus
{
    Active,
    Suspended,
}

/// <summary>A member as others see it. <see cref="CommissionBps"/> is a merchant's own rate, or null for the default.</summary>
[GenerateSerializer]
public sealed record MemberProfile(
    string Id,
    MemberType Type,
    string Name,
    string Email,
    string Address,
    MemberStatus Status,
    long? CommissionBps,
    DateTimeOffset RegisteredAt);

/// <summary>What registration asks for. The password arrives already hashed: grains never see a password.</summary>
[GenerateSerializer]
public sealed record MemberRegistration(MemberType Type, string Name, string Email, string Address, string PasswordHash, DateTimeOffset RegisteredAt);

/// <summary>A change to a profile; null fields stay as they are.</summary>
[GenerateSerializer]
public sealed record ProfileChange(string? Name, string? Email, string? Address);

/// <summary>A bank account linked to a member after the bank confirmed it exists, is open and is held in the member's name.</summary>
[GenerateSerializer]
public sealed record LinkedBankAccount(string BankCode, string AccountNumber, string HolderName, DateTimeOffset LinkedAt);
