using MyPay.LoadTest.Client;

namespace MyPay.LoadTest.Preparation;

/// <summary>A prepared customer: registered, signed in, with a bank account in their name linked and the wallet funded.</summary>
public sealed class Customer(int index, string id, TokenKeeper tokens)
{
    private int full;

    public int Index { get; } = index;

    public string Id { get; } = id;

    public TokenKeeper Tokens { get; } = tokens;

    /// <summary>Set once a recharge was refused with <c>balance-cap-exceeded</c>: workers stop recharging this wallet.</summary>
    public bool IsFull => Volatile.Read(ref full) == 1;

    public void MarkFull() => Volatile.Write(ref full, 1);
}

/// <summary>Who the run sends as and to.</summary>
public sealed record Cast(IReadOnlyList<Customer> Customers, IReadOnlyList<string> MerchantIds);
