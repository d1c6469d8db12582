using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MyPay.Api.Auth;

/// <summary>Issues access tokens: subject (member id or "operator"), role, issuer, audience and expiry, signed with HMAC-SHA256.</summary>
public sealed class TokenIssuer(TokenIssuer.SigningKey key, IOptions<AuthOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler handler = new();

    public TokenResponse Issue(string subject, string role)
    {
        var now = time.GetUtcNow();
        var lifetime = options.Value.TokenLifetime;
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = AuthOptions.Issuer,
            Audience = AuthOptions.Audience,
            Subject = new ClaimsIdentity([new Claim(Roles.SubjectClaim, subject), new Claim(Roles.RoleClaim, role)]),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(key.Key, SecurityAlgorithms.HmacSha256),
        });
        return new TokenResponse(token, "Bearer", (long)lifetime.TotalSeconds, subject, role);
    }

    public sealed record SigningKey(SymmetricSecurityKey Key);

    /// <summary>The body of <c>POST /v1/auth/token</c>: the token, its type and lifetime in seconds, and whom it is for.</summary>
    public sealed record TokenResponse(string AccessToken, string TokenType, long ExpiresIn, string Subject, string Role);
}
