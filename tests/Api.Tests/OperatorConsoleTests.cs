using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using MyPay.Api.Operators;

namespace MyPay.Api.Tests;

/// <summary>
/// The operators' pages in a browser: Orleans' dashboard at /dashboard, behind a sign-in page that issues a cookie to
/// the operator only; the operator's bearer token opens it too, a member's does not.
/// </summary>
public sealed partial class OperatorConsoleTests(BankFixture fixture) : NodeTests(fixture), IClassFixture<BankFixture>
{
    [Fact]
    public async Task Dashboard_ForABrowserNotSignedIn_RedirectsToTheSignInPage()
    {
        using var browser = Browser();

        using var response = await browser.GetAsync(new Uri("/dashboard/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/operator/sign-in", response.Headers.Location!.AbsolutePath);
        Assert.Contains("ReturnUrl=%2Fdashboard%2F", response.Headers.Location.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_ForAMembersToken_IsForbidden()
    {
        var member = await App.RegisterAsync();

        using var response = await member.Client.GetAsync(new Uri("/dashboard/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_ForTheOperatorsToken_ShowsTheClustersSilosAndGrainTypes()
    {
        await App.RegisterAsync();
        using var operatorClient = await App.OperatorAsync();

        using var page = await operatorClient.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);

        // The dashboard gathers its counters from the silos every second or so: a fresh node has none yet.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var counters = await operatorClient.GetStringAsync(new Uri("/dashboard/DashboardCounters", UriKind.Relative));
        while (!(counters.Contains("127.0.0.1", StringComparison.Ordinal) && counters.Contains("MemberGrain", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            counters = await operatorClient.GetStringAsync(new Uri("/dashboard/DashboardCounters", UriKind.Relative));
        }

        Assert.Contains("127.0.0.1", counters, StringComparison.Ordinal);
        Assert.Contains("MyPay.Grains.Members.MemberGrain", counters, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_LeftOut_IsNotServed_AndTheNodeServesTheRest()
    {
        await using var plain = new MyPayApp(
            Fixture.Database.ConnectionString, Fixture.Bank.BaseAddress, settings: new Dictionary<string, string> { [OperatorConsole.DashboardSetting] = "off" });
        (await plain.CreateReadyClientAsync()).Dispose();
        using var operatorClient = await plain.OperatorAsync();

        using var dashboard = await operatorClient.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        using var live = await operatorClient.GetAsync(new Uri("/v1/reports/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, dashboard.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task SignIn_WithTheOperatorsPassword_IssuesACookieThatOpensTheDashboard()
    {
        using var browser = Browser();
        var token = await SignInFormTokenAsync(browser);

        using var signedIn = await browser.PostAsync(new Uri("/operator/sign-in", UriKind.Relative), Form(token, MyPayApp.OperatorPassword, "/dashboard/"));

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/dashboard/", signedIn.Headers.Location!.OriginalString);
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), header => header.StartsWith("mypay-operator=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        using var dashboard = await browser.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);

        using var signedOut = await browser.PostAsync(new Uri("/operator/sign-out", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        using var afterSignOut = await browser.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, afterSignOut.StatusCode);
    }

    [Fact]
    public async Task SignIn_WithAWrongPassword_ShowsTheFormAgain_AndIssuesNoCookie()
    {
        using var browser = Browser();
        var token = await SignInFormTokenAsync(browser);

        using var refused = await browser.PostAsync(new Uri("/operator/sign-in", UriKind.Relative), Form(token, "not the password", "/dashboard/"));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("The username or password is wrong.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(refused.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], header => header.StartsWith("mypay-operator=", StringComparison.Ordinal));
        using var dashboard = await browser.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
    }

    [Theory]
    [InlineData("//evil.example/")]
    [InlineData("https://evil.example/")]
    [InlineData("/\\evil.example/")]
    public async Task SignIn_SendsBackOnlyToAPathOfThisNode(string returnUrl)
    {
        using var browser = Browser();
        var token = await SignInFormTokenAsync(browser);

        using var signedIn = await browser.PostAsync(new Uri("/operator/sign-in", UriKind.Relative), Form(token, MyPayApp.OperatorPassword, returnUrl));

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/operator", signedIn.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task SignIn_WithoutTheFormsAntiforgeryToken_IsRefused()
    {
        using var browser = Browser();

        using var forged = await browser.PostAsync(new Uri("/operator/sign-in", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "operator",
            ["password"] = MyPayApp.OperatorPassword,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.False(forged.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(header => header.StartsWith("mypay-operator=", StringComparison.Ordinal)));
    }

    /// <summary>A client that keeps cookies and does not follow redirects, as a test looks at a browser's exchanges.</summary>
    private HttpClient Browser() => App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>Opens the sign-in page (which sets the antiforgery cookie) and reads the form's hidden token.</summary>
    private static async Task<(string Name, string Value)> SignInFormTokenAsync(HttpClient browser)
    {
        using var page = await browser.GetAsync(new Uri("/operator/sign-in?returnUrl=%2Fdashboard%2F", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var match = HiddenToken().Match(await page.Content.ReadAsStringAsync());
        Assert.True(match.Success, "The sign-in page has no antiforgery field.");
        return (match.Groups["name"].Value, System.Net.WebUtility.HtmlDecode(match.Groups["value"].Value));
    }

    private static FormUrlEncodedContent Form((string Name, string Value) token, string password, string returnUrl) => new(new Dictionary<string, string>
    {
        [token.Name] = token.Value,
        ["username"] = "operator",
        ["password"] = password,
        ["returnUrl"] = returnUrl,
    });

    [GeneratedRegex("""<input type="hidden" name="(?<name>__RequestVerificationToken[^"]*)" value="(?<value>[^"]*)">""")]
    private static partial Regex HiddenToken();
}
