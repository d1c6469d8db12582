using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MyPay.Testing;

namespace MyPay.Api.Tests;

/// <summary>The authorization matrix: who may call what, and how each kind of bad token is refused.</summary>
public sealed class AuthorizationTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private MyPayApp app = null!;
    private MyPayApp.Member owner = null!;
    private MyPayApp.Member stranger = null!;

    public async Task InitializeAsync()
    {
        app = new MyPayApp(database.ConnectionString);
        (await app.CreateReadyClientAsync()).Dispose();
        owner = await app.RegisterAsync();
        stranger = await app.RegisterAsync();
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    public static TheoryData<string, string> MemberRoutes => new()
    {
        { "GET", "/v1/members/{0}" },
        { "PATCH", "/v1/members/{0}" },
        { "GET", "/v1/members/{0}/wallet" },
        { "POST", "/v1/members/{0}/wallet/recharge" },
        { "GET", "/v1/merchants/{0}/commission/history" },
        { "GET", "/v1/merchants/{0}/settlements" },
    };

    private HttpRequestMessage Request(string method, string route, string? token)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), string.Format(System.Globalization.CultureInfo.InvariantCulture, route, owner.Id));
        if (method is "POST" or "PATCH")
        {
            request.Content = method == "POST" ? JsonContent.Create(new { amount = 10_000 }) : JsonContent.Create(new { name = "침입자" });
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    [Theory]
    [MemberData(nameof(MemberRoutes))]
    public async Task NoToken_Is401Problem(string method, string route)
    {
        using var client = app.CreateClient();

        using var response = await client.SendAsync(Request(method, route, token: null));

        await response.AssertProblemAsync(401);
    }

    [Theory]
    [MemberData(nameof(MemberRoutes))]
    public async Task AnotherMembersToken_Is403AndChangesNothing(string method, string route)
    {
        using var response = await stranger.Client.SendAsync(Request(method, route, Token(stranger.Client)));

        await response.AssertProblemAsync(403);
        var profile = await owner.Client.GetFromJsonAsync<JsonElement>($"/v1/members/{owner.Id}");
        Assert.NotEqual("침입자", profile.GetProperty("name").GetString());
        Assert.Equal(0, await owner.Client.BalanceAsync(owner.Id));
    }

    [Theory]
    [MemberData(nameof(MemberRoutes))]
    public async Task ExpiredToken_Is401(string method, string route)
    {
        var expired = TestTokens.Sign(owner.Id, "customer", expires: DateTime.UtcNow.AddMinutes(-5), MyPayApp.SigningKey);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(Request(method, route, expired));

        await response.AssertProblemAsync(401);
    }

    [Theory]
    [MemberData(nameof(MemberRoutes))]
    public async Task TokenSignedWithAnotherKey_Is401(string method, string route)
    {
        var forged = TestTokens.Sign(owner.Id, "customer", expires: DateTime.UtcNow.AddMinutes(10), [.. Enumerable.Repeat((byte)42, 32)]);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(Request(method, route, forged));

        await response.AssertProblemAsync(401);
    }

    [Fact]
    public async Task TamperedToken_SubjectSwapped_Is401()
    {
        // Take the stranger's valid token and swap its payload for one naming the owner: the signature no longer matches.
        var parts = Token(stranger.Client).Split('.');
        var payload = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new { sub = owner.Id, role = "customer", iss = "mypay", aud = "mypay-api", exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds() }));
        var tampered = $"{parts[0]}.{payload}.{parts[2]}";
        using var client = app.CreateClient();

        using var response = await client.SendAsync(Request("GET", "/v1/members/{0}/wallet", tampered));

        await response.AssertProblemAsync(401);
    }

    [Fact]
    public async Task UnsignedToken_Is401()
    {
        var unsigned = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "mypay",
            Audience = "mypay-api",
            Subject = new ClaimsIdentity([new Claim("sub", owner.Id), new Claim("role", "operator")]),
            Expires = DateTime.UtcNow.AddMinutes(10),
        });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(Request("GET", "/v1/members/{0}", unsigned));

        await response.AssertProblemAsync(401);
    }

    [Fact]
    public async Task Member_OnOperatorAction_Is403()
    {
        // Suspending is an operator's action; a member may not suspend anyone, not even another member.
        using var response = await owner.Client.PatchAsJsonAsync($"/v1/members/{stranger.Id}", new { status = "suspended" });

        await response.AssertProblemAsync(403);
    }

    [Fact]
    public async Task Operator_ReadsAnyMemberAndWallet_ButCannotRecharge()
    {
        using var operatorClient = await app.OperatorAsync();

        using var profile = await operatorClient.GetAsync(new Uri($"/v1/members/{owner.Id}", UriKind.Relative));
        using var wallet = await operatorClient.GetAsync(new Uri($"/v1/members/{owner.Id}/wallet", UriKind.Relative));
        using var recharge = await operatorClient.RechargeAsync(owner.Id, 10_000, "operator-recharge");

        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Equal(HttpStatusCode.OK, wallet.StatusCode);
        await recharge.AssertProblemAsync(403);
    }

    [Theory]
    [InlineData("operator", "wrong password")]
    [InlineData("nobody@example.com", "correct horse battery")]
    [InlineData("", "")]
    public async Task SignIn_WrongCredentials_Is401(string username, string password)
    {
        using var client = app.CreateClient();

        using var response = await client.PostAsJsonAsync("/v1/auth/token", new { username, password });

        var problem = await response.AssertProblemAsync(401);
        Assert.EndsWith("invalid-credentials", problem.ProblemType(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WrongPasswordForRealMember_Is401()
    {
        using var client = app.CreateClient();

        using var response = await client.PostAsJsonAsync("/v1/auth/token", new { username = owner.Email, password = "not the password" });

        await response.AssertProblemAsync(401);
    }

    private static string Token(HttpClient client) => client.DefaultRequestHeaders.Authorization!.Parameter!;
}
