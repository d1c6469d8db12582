using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using MyPay.Bench.Peer;
using Npgsql;

// The bench's peer (issue 19): MyPay's pay operation as a user would build it without grains or group commit. One
// ASP.NET Core endpoint, one PostgreSQL transaction per request (the payer's wallet_balance row locked FOR UPDATE,
// updated, the journal entry, its postings and the payment row inserted), on MyPay's own tables, with MyPay's JSON
// and MyPay's tokens (the same signing key, issuer and audience, validated by the stock JWT handler). bench/run
// starts it beside the node on the same database and the load-test client pays through it (--pay-url), so
// MyPay's rows can be set beside it. It takes payments only: members register, sign in and recharge at the node.
//
// Settings (environment): MYPAY_DATABASE_URL (postgresql://user[:password]@host[:port]/database), MYPAY_JWT_SIGNING_KEY
// (as the node's), PEER_CONNECTIONS_MAX (the pool's size, default 16, pgbench's clients in the same bench: pay through
// the peer ran at 513, 524 and 377 req/s with 8, 16 and 64 connections, one run each in one session; bench/HISTORY.md).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, PeerJson.Default));
builder.Services.AddSingleton(PeerDatabase.Open(
    builder.Configuration["MYPAY_DATABASE_URL"] ?? throw new InvalidOperationException("MYPAY_DATABASE_URL is not set."),
    builder.Configuration.GetValue("PEER_CONNECTIONS_MAX", 16)));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<PeerPayments>();
builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
{
    options.MapInboundClaims = false;
    options.TokenValidationParameters = new TokenValidationParameters
    {
        ValidIssuer = "mypay",
        ValidAudience = "mypay-api",
        IssuerSigningKey = SigningKey(builder.Configuration["MYPAY_JWT_SIGNING_KEY"]),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        NameClaimType = "sub",
        RoleClaimType = "role",
        ClockSkew = TimeSpan.FromSeconds(30),
    };
});
builder.Services.AddAuthorization();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapGet("/health/ready", async (NpgsqlDataSource database) =>
{
    await using var connection = await database.OpenConnectionAsync();
    return TypedResults.Ok();
});
app.MapPost("/v1/payments", (PayRequest request, HttpContext http, PeerPayments payments) => payments.PayAsync(request, http)).RequireAuthorization();
app.MapGet("/v1/members/{memberId}/wallet", (string memberId, HttpContext http, PeerPayments payments) => payments.GetWalletAsync(memberId, http)).RequireAuthorization();
app.Run();

// The node's key rule: base64, else the text's UTF-8 bytes.
static SymmetricSecurityKey SigningKey(string? configured)
{
    ArgumentException.ThrowIfNullOrWhiteSpace(configured, "MYPAY_JWT_SIGNING_KEY");
    var decoded = new byte[configured.Length];
    return new SymmetricSecurityKey(Convert.TryFromBase64String(configured, decoded, out var written) ? decoded[..written] : Encoding.UTF8.GetBytes(configured));
}

namespace MyPay.Bench.Peer
{
    public sealed record PayRequest(string? MerchantId, long? Amount, string? OrderId);

    public sealed record PaymentResponse(
        string PaymentId, string PayerId, string MerchantId, long Amount, long Commission, long Net, string? OrderId, long? Balance, long? ToppedUp);

    public sealed record WalletResponse(string MemberId, long Balance);

    [JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
    [JsonSerializable(typeof(PayRequest))]
    [JsonSerializable(typeof(PaymentResponse))]
    [JsonSerializable(typeof(WalletResponse))]
    [JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
    [JsonSerializable(typeof(HttpValidationProblemDetails))]
    internal sealed partial class PeerJson : JsonSerializerContext;
}
