using System.Security.Claims;
using Microsoft.IdentityModel.Tokens;
using MyPay.Api.Auth;

namespace MyPay.Api.Tests;

/// <summary>
/// The node's bearer-token handler remembers a valid token until its expiry: a remembered token is answered without
/// validating again, yet never past its <c>exp</c>, never for a token that failed, and each answer carries its own
/// claims.
/// </summary>
public sealed class RememberingTokenHandlerTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)(i * 3))];

    private static readonly TokenValidationParameters Parameters = new()
    {
        ValidIssuer = "mypay",
        ValidAudience = "mypay-api",
        IssuerSigningKey = new SymmetricSecurityKey(Key),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.Zero,
    };

    [Fact]
    public async Task ValidToken_IsRemembered_WithClaimsOfItsOwnPerAnswer()
    {
        var handler = new RememberingTokenHandler(TimeProvider.System);
        var token = TestTokens.Sign("m1", "customer", DateTime.UtcNow.AddMinutes(10), Key);

        var first = await handler.ValidateTokenAsync(token, Parameters);
        var second = await handler.ValidateTokenAsync(token, Parameters);

        Assert.True(first.IsValid);
        Assert.True(second.IsValid);
        Assert.Equal("m1", second.ClaimsIdentity.FindFirst("sub")?.Value);
        Assert.Same(first.SecurityToken, second.SecurityToken);

        // A claim one request adds to its identity is not seen by the next request with the same token.
        second.ClaimsIdentity.AddClaim(new Claim("role", "operator"));
        var third = await handler.ValidateTokenAsync(token, Parameters);
        Assert.Equal(["customer"], third.ClaimsIdentity.FindAll("role").Select(claim => claim.Value));
    }

    [Fact]
    public async Task RememberedToken_IsRefusedOnceExpired()
    {
        var handler = new RememberingTokenHandler(TimeProvider.System);
        var expires = DateTime.UtcNow.AddSeconds(2);
        var token = TestTokens.Sign("m1", "customer", expires, Key);
        Assert.True((await handler.ValidateTokenAsync(token, Parameters)).IsValid);

        // JWT times are whole seconds: wait past the second the token expires in.
        await Task.Delay(expires.AddSeconds(1.1) - DateTime.UtcNow);

        var late = await handler.ValidateTokenAsync(token, Parameters);
        Assert.False(late.IsValid);
        Assert.IsType<SecurityTokenExpiredException>(late.Exception);
    }

    [Fact]
    public async Task RefusedToken_IsNotRemembered_AndStaysRefused()
    {
        var handler = new RememberingTokenHandler(TimeProvider.System);
        var forged = TestTokens.Sign("m1", "customer", DateTime.UtcNow.AddMinutes(10), [.. Enumerable.Repeat((byte)42, 32)]);

        Assert.False((await handler.ValidateTokenAsync(forged, Parameters)).IsValid);
        Assert.False((await handler.ValidateTokenAsync(forged, Parameters)).IsValid);
    }
}
