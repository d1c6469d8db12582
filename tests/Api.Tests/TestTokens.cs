using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MyPay.Api.Tests;

/// <summary>Bearer tokens signed here, as the node would sign them or with a key or lifetime a test chooses.</summary>
public static class TestTokens
{
    public static string Sign(string subject, string role, DateTime expires, byte[] key) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "mypay",
        Audience = "mypay-api",
        Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("role", role)]),
        NotBefore = expires.AddHours(-1),
        IssuedAt = expires.AddHours(-1),
        Expires = expires,
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
    });
}
