using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace MyPay.Api.Auth;

public static class AuthSetup
{
    /// <summary>Smallest signing key accepted: HMAC-SHA256 wants at least 256 bits.</summary>
    public const int SigningKeyBytesMin = 32;

    /// <summary>
    /// JWT bearer authentication with a symmetric key from <c>MYPAY_JWT_SIGNING_KEY</c> (base64 or plain
    /// text, at least 32 bytes). There is no default key: only <c>./mypay run</c> generates one for development.
    /// </summary>
    public static IServiceCollection AddMyPayAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var signingKey = ReadSigningKey(configuration[AuthOptions.SigningKeyVariable]);
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(new TokenIssuer.SigningKey(signingKey));
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<Passwords>();
        services.AddSingleton<OperatorCredentials>();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<TimeProvider>((options, time) =>
        {
            options.TokenHandlers.Clear();
            options.TokenHandlers.Add(new RememberingTokenHandler(time));
            options.MapInboundClaims = false;
            options.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = AuthOptions.Issuer,
                ValidAudience = AuthOptions.Audience,
                IssuerSigningKey = signingKey,
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                NameClaimType = Roles.SubjectClaim,
                RoleClaimType = Roles.RoleClaim,
                // Nodes share one clock source in practice; a small skew keeps an expired token from living on for minutes.
                ClockSkew = TimeSpan.FromSeconds(30),
            };
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.Operator, policy => policy.RequireRole(Roles.Operator));
        return services;
    }

    public static WebApplication UseMyPayAuth(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    private static SymmetricSecurityKey ReadSigningKey(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException(
                $"{AuthOptions.SigningKeyVariable} is not set. Set it to a random key of at least {SigningKeyBytesMin} bytes (base64), or start MyPay with ./mypay run, which generates one for development.");
        }

        Span<byte> decoded = new byte[configured.Length];
        var bytes = Convert.TryFromBase64String(configured, decoded, out var written) ? decoded[..written].ToArray() : Encoding.UTF8.GetBytes(configured);
        return bytes.Length >= SigningKeyBytesMin
            ? new SymmetricSecurityKey(bytes)
            : throw new InvalidOperationException($"{AuthOptions.SigningKeyVariable} holds {bytes.Length} bytes; at least {SigningKeyBytesMin} are required.");
    }
}
