using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MyPay.Silo.Caching;

namespace MyPay.Api.Auth;

/// <summary>
/// Validates a bearer token once and remembers it until it expires: a client sends the same token with every request
/// of its hour, and parsing it, checking its signature and building its claims was 5% of a node's CPU under the pay
/// load (<c>BENCH_CALLGRAPH=1 bench/run profile pay</c>, 2026-12-02). Only valid tokens are remembered, each until its
/// <c>exp</c> (stricter than the validation's clock skew), and every request gets its own copy of the claims. At most
/// <see cref="CountMax"/> tokens are kept: past that the memory starts over.
/// </summary>
public sealed class RememberingTokenHandler(TimeProvider time) : JsonWebTokenHandler
{
    /// <summary>Tokens remembered before the memory starts over; each costs a kilobyte or two.</summary>
    public const int CountMax = 4_096;

    private readonly BoundedCache<string, Validated> validated = new(CountMax, StringComparer.Ordinal);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (validated.TryGet(token, out var known))
        {
            if (time.GetUtcNow().UtcDateTime < known.Token.ValidTo)
            {
                return new TokenValidationResult { IsValid = true, SecurityToken = known.Token, ClaimsIdentity = known.Identity.Clone() };
            }

            validated.Remove(token);
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result is { IsValid: true, SecurityToken: JsonWebToken jsonWebToken })
        {
            validated.Add(token, new Validated(jsonWebToken, result.ClaimsIdentity.Clone()));
        }

        return result;
    }

    private sealed record Validated(JsonWebToken Token, System.Security.Claims.ClaimsIdentity Identity);
}
