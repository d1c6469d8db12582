namespace MyPay.Api.Members;

/// <summary>
/// The commission a merchant pays when no rate of its own is set, in basis points (250 = 2.5%).
/// Operators change it in a later issue (<c>PUT /v1/commission/default</c>); until then it is this constant.
/// </summary>
public static class CommissionDefaults
{
    public const long RateBps = 250;
}
