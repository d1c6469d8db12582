using System.ComponentModel.DataAnnotations;

namespace MyPay.Api.Auth;

/// <summary>Sign-in settings. The secrets come from the environment: <c>MYPAY_JWT_SIGNING_KEY</c>, <c>MYPAY_OPERATOR_PASSWORD</c>.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";
    public const string SigningKeyVariable = "MYPAY_JWT_SIGNING_KEY";
    public const string OperatorPasswordVariable = "MYPAY_OPERATOR_PASSWORD";
    public const string Issuer = "mypay";
    public const string Audience = "mypay-api";

    /// <summary>How long an access token is valid. Default 1 hour: short enough that a leaked token expires soon, long enough for a session.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The operator's sign-in name. Default "operator".</summary>
    [Required]
    public string OperatorUsername { get; set; } = "operator";
}
