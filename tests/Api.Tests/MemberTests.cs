using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MyPay.Testing;

namespace MyPay.Api.Tests;

public sealed class MemberTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private MyPayApp app = null!;
    private HttpClient anonymous = null!;

    public async Task InitializeAsync()
    {
        app = new MyPayApp(database.ConnectionString);
        anonymous = await app.CreateReadyClientAsync();
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    private static object Registration(string? name = "이영희", string? email = null, string? type = "customer", string? password = "long enough password", string? address = "대전광역시 유성구") =>
        new { type, name, email = email ?? $"{Guid.NewGuid():N}@example.com", address, password };

    [Fact]
    public async Task Register_Customer_Is201WithProfileAndLocation()
    {
        using var response = await anonymous.PostAsJsonAsync("/v1/members", Registration(name: "  김  철수 ", email: "Kim.Chulsoo@Example.com"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var member = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = member.GetProperty("id").GetString()!;
        Assert.Equal($"/v1/members/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("김 철수", member.GetProperty("name").GetString());
        Assert.Equal("kim.chulsoo@example.com", member.GetProperty("email").GetString());
        Assert.Equal("customer", member.GetProperty("type").GetString());
        Assert.Equal("active", member.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, member.GetProperty("commissionBps").ValueKind);
        Assert.False(member.TryGetProperty("password", out _));
        Assert.False(member.TryGetProperty("passwordHash", out _));
    }

    [Fact]
    public async Task Register_Merchant_CarriesTheDefaultCommission()
    {
        using var response = await anonymous.PostAsJsonAsync("/v1/members", Registration(type: "merchant", name: "동네 빵집"));

        var member = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("merchant", member.GetProperty("type").GetString());
        Assert.Equal(250, member.GetProperty("commissionBps").GetInt64());
    }

    [Theory]
    [InlineData("name", "")]
    [InlineData("name", "   ")]
    [InlineData("name", null)]
    [InlineData("name", "10k")]
    [InlineData("name", "tab\tinside")]
    [InlineData("email", "")]
    [InlineData("email", "not-an-email")]
    [InlineData("email", "two@@example.com")]
    [InlineData("email", "Name <a@example.com>")]
    [InlineData("email", "spaces in@example.com")]
    [InlineData("email", "nodot@localhost")]
    [InlineData("type", "admin")]
    [InlineData("type", null)]
    [InlineData("password", "short")]
    [InlineData("password", null)]
    [InlineData("address", "10k")]
    public async Task Register_InvalidField_Is400NamingTheField(string field, string? value)
    {
        if (value == "10k")
        {
            value = new string('가', 10 * 1024);
        }

        var valid = new Dictionary<string, string?>
        {
            ["type"] = "customer",
            ["name"] = "박지성",
            ["email"] = $"{Guid.NewGuid():N}@example.com",
            ["address"] = "수원시",
            ["password"] = "long enough password",
        };
        valid[field] = value;

        using var response = await anonymous.PostAsJsonAsync("/v1/members", valid);

        var problem = await response.AssertProblemAsync(400);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"The problem should name '{field}': {problem}");
    }

    [Theory]
    [InlineData("""{"type":"customer","name":42}""")]
    [InlineData("""not json""")]
    [InlineData("")]
    public async Task Register_MalformedBody_Is400Problem(string body)
    {
        using var response = await anonymous.PostAsync(new Uri("/v1/members", UriKind.Relative), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        await response.AssertProblemAsync(400);
    }

    [Theory]
    [InlineData("Émilie Dupont")]
    [InlineData("王小明")]
    [InlineData("Ōtani 翔平 😀")]
    public async Task Register_UnicodeName_IsKeptAsWritten(string name)
    {
        using var response = await anonymous.PostAsJsonAsync("/v1/members", Registration(name: name));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(name.Normalize(), (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Register_DuplicateEmail_Is409EvenWithOtherCase()
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        using var first = await anonymous.PostAsJsonAsync("/v1/members", Registration(email: email));

        using var second = await anonymous.PostAsJsonAsync("/v1/members", Registration(email: email.ToUpperInvariant()));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var problem = await second.AssertProblemAsync(409);
        Assert.EndsWith("email-taken", problem.ProblemType(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_SameEmailConcurrently_ExactlyOneWins()
    {
        var email = $"{Guid.NewGuid():N}@example.com";

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => anonymous.PostAsJsonAsync("/v1/members", Registration(email: email))));

        Assert.Equal(1, responses.Count(response => response.StatusCode == HttpStatusCode.Created));
        Assert.Equal(9, responses.Count(response => response.StatusCode == HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task GetAndPatch_OwnProfile_ChangesNameEmailAddress()
    {
        var member = await app.RegisterAsync();
        var newEmail = $"{Guid.NewGuid():N}@example.com";

        using var patched = await member.Client.PatchAsJsonAsync($"/v1/members/{member.Id}", new { name = "새 이름", email = newEmail, address = "제주시" });
        var profile = await member.Client.GetFromJsonAsync<JsonElement>($"/v1/members/{member.Id}");

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("새 이름", profile.GetProperty("name").GetString());
        Assert.Equal(newEmail, profile.GetProperty("email").GetString());
        Assert.Equal("제주시", profile.GetProperty("address").GetString());

        // The new email signs in; the old one is free for someone else.
        using var signIn = await anonymous.PostAsJsonAsync("/v1/auth/token", new { username = newEmail, password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        using var reuse = await anonymous.PostAsJsonAsync("/v1/members", Registration(email: member.Email));
        Assert.Equal(HttpStatusCode.Created, reuse.StatusCode);
    }

    [Fact]
    public async Task Patch_EmailOfAnotherMember_Is409AndChangesNothing()
    {
        var member = await app.RegisterAsync();
        var other = await app.RegisterAsync();

        using var patched = await member.Client.PatchAsJsonAsync($"/v1/members/{member.Id}", new { email = other.Email, name = "바뀌면 안 됨" });

        await patched.AssertProblemAsync(409);
        var profile = await member.Client.GetFromJsonAsync<JsonElement>($"/v1/members/{member.Id}");
        Assert.Equal(member.Email, profile.GetProperty("email").GetString());
        Assert.NotEqual("바뀌면 안 됨", profile.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Patch_InvalidName_Is400()
    {
        var member = await app.RegisterAsync();

        using var patched = await member.Client.PatchAsJsonAsync($"/v1/members/{member.Id}", new { name = "" });

        await patched.AssertProblemAsync(400);
    }

    [Fact]
    public async Task Operator_SuspendsAndReactivates_SuspendedCannotSignIn()
    {
        var member = await app.RegisterAsync();
        using var operatorClient = await app.OperatorAsync();

        using var suspended = await operatorClient.PatchAsJsonAsync($"/v1/members/{member.Id}", new { status = "suspended" });
        using var signInWhileSuspended = await anonymous.PostAsJsonAsync("/v1/auth/token", new { username = member.Email, password = "correct horse battery" });
        using var reactivated = await operatorClient.PatchAsJsonAsync($"/v1/members/{member.Id}", new { status = "active" });
        using var signInAfter = await anonymous.PostAsJsonAsync("/v1/auth/token", new { username = member.Email, password = "correct horse battery" });

        Assert.Equal("suspended", (await suspended.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await signInWhileSuspended.AssertProblemAsync(403);
        Assert.Equal(HttpStatusCode.OK, reactivated.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signInAfter.StatusCode);
    }

    [Fact]
    public async Task Member_CannotChangeOwnStatus()
    {
        var member = await app.RegisterAsync();

        using var patched = await member.Client.PatchAsJsonAsync($"/v1/members/{member.Id}", new { status = "active" });

        await patched.AssertProblemAsync(403);
    }

    [Fact]
    public async Task Operator_UnknownMember_Is404()
    {
        using var operatorClient = await app.OperatorAsync();

        using var response = await operatorClient.GetAsync(new Uri("/v1/members/m00000000000000000000", UriKind.Relative));

        await response.AssertProblemAsync(404);
    }
}
