using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace MyPay.Api.Auth;

/// <summary>The operator's username and password (<c>MYPAY_OPERATOR_PASSWORD</c>), checked in constant time; no password set, no operator.</summary>
public sealed class OperatorCredentials(IOptions<AuthOptions> options, IConfiguration configuration)
{
    public string Username => options.Value.OperatorUsername;

    public bool IsOperator(string? username) => username == Username;

    public bool Verify(string? username, string? password)
    {
        var configured = configuration[AuthOptions.OperatorPasswordVariable];
        return IsOperator(username) && !string.IsNullOrEmpty(configured) && password is not null
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(configured)), SHA256.HashData(Encoding.UTF8.GetBytes(password)));
    }
}
