using System.Security.Claims;

namespace MyPay.Api.Auth;

/// <summary>Who the caller is, read from the token's claims.</summary>
public static class Roles
{
    public const string Operator = "operator";
    public const string Customer = "customer";
    public const string Merchant = "merchant";
    public const string SubjectClaim = "sub";
    public const string RoleClaim = "role";

    public static bool IsOperator(this ClaimsPrincipal user) => user.IsInRole(Operator);

    public static string? MemberId(this ClaimsPrincipal user) => user.IsOperator() ? null : user.FindFirst(SubjectClaim)?.Value;

    /// <summary>Whom the token was issued to (a member id, or the operator): what a change records as its author.</summary>
    public static string Subject(this ClaimsPrincipal user) =>
        user.FindFirst(SubjectClaim)?.Value ?? throw new InvalidOperationException("An authenticated caller's token has no subject: MyPay issues none without one.");
}
