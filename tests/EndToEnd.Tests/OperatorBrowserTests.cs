using System.Net;
using Microsoft.Playwright;
using MyPay.Testing;
using Xunit.Abstractions;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// The operators' pages in a real browser: Debian's chromium (<c>MYPAY_CHROMIUM</c>, installed by scripts/chromium.sh),
/// driven by Playwright, against a node process. An operator signs in from the dashboard's address, sees the silo and
/// the grain types in Orleans' dashboard, and sees on the money page a payment made seconds earlier, then the next one
/// as the page reloads itself; a member is refused; signing out ends the session. Screenshots are saved under the test
/// output (<c>screenshots/</c>).
/// </summary>
public sealed class OperatorBrowserTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private static readonly string ScreenshotFolder = Path.Combine(AppContext.BaseDirectory, "screenshots");

    /// <summary>How long an expectation waits for the page: the money page trails the wallets' events and reloads every 5 s.</summary>
    private const float PatienceMs = 30_000;

    [Fact]
    public async Task AnOperator_SignsIn_SeesTheClusterAndAPaymentMadeSecondsEarlier_AndAMemberIsRefused()
    {
        await using var bank = await BuiltProcess.StartBankAsync();
        await using var node = await NodeProcess.StartAsync(database.ConnectionString, bank.BaseAddress);
        var (_, payerToken) = await node.RegisterWithWalletAsync(bank, 50_000);
        var (merchantId, _) = await node.RegisterAsync(type: "merchant");
        await PayAsync(node, payerToken, merchantId, 4_321, "browser-1");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium(),
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });

        // Not signed in: the dashboard's address leads to the sign-in page, and signing in leads back to it.
        var operatorContext = await browser.NewContextAsync(new() { BaseURL = node.BaseAddress.ToString() });
        var page = await operatorContext.NewPageAsync();
        await page.GotoAsync("/dashboard/");
        Assert.Equal("/operator/sign-in", new Uri(page.Url).AbsolutePath);
        await ScreenshotAsync(page, "1-sign-in");
        await page.FillAsync("#username", "operator");
        await page.FillAsync("#password", NodeProcess.OperatorPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync("**/dashboard/");

        // Orleans' dashboard: one active silo, and the grain types MyPay activated (the payment's wallets).
        await Assertions.Expect(page.Locator(".info-box", new() { HasText = "Active silos" })).ToContainTextAsync("1", new() { Timeout = PatienceMs, IgnoreCase = true });
        await ScreenshotAsync(page, "2-dashboard");
        await page.GotoAsync("/dashboard/#/silos");
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync($":{NodeProcess.SiloPortOf(database.ConnectionString)}", new() { Timeout = PatienceMs });
        await ScreenshotAsync(page, "3-dashboard-silos");
        await page.GotoAsync("/dashboard/#/grains");
        await Assertions.Expect(page.Locator("td[title='MyPay.Grains.Money.WalletGrain']")).ToBeVisibleAsync(new() { Timeout = PatienceMs });
        await ScreenshotAsync(page, "4-dashboard-grains");

        // The money page counts the payment made before signing in, then the next one as it reloads itself.
        await page.GotoAsync("/operator");
        await Assertions.Expect(page.Locator("#payments-last-minute")).ToHaveTextAsync("1", new() { Timeout = PatienceMs });
        await Assertions.Expect(page.Locator("#payment-volume-last-minute")).ToHaveTextAsync("4,321 won", new() { Timeout = PatienceMs });
        await PayAsync(node, payerToken, merchantId, 1_000, "browser-2");
        await Assertions.Expect(page.Locator("#payments-last-minute")).ToHaveTextAsync("2", new() { Timeout = PatienceMs });
        await Assertions.Expect(page.Locator("#payment-volume-last-minute")).ToHaveTextAsync("5,321 won", new() { Timeout = PatienceMs });
        await Assertions.Expect(page.Locator("#merchants-pending")).ToHaveTextAsync("1", new() { Timeout = PatienceMs });
        Assert.InRange(await page.Locator("#payments-chart rect").CountAsync(), 1, 2); // a bar a second with payments
        await ScreenshotAsync(page, "5-money");
        await page.ClickAsync("text=Ledger and reconciliation");
        await Assertions.Expect(page.Locator("#ledger-verdict")).ToContainTextAsync("Consistent", new() { Timeout = PatienceMs });
        await ScreenshotAsync(page, "6-checks");

        // A member with a valid token is refused the operators' pages.
        var (_, memberToken) = await node.RegisterAsync();
        var memberContext = await browser.NewContextAsync(new()
        {
            BaseURL = node.BaseAddress.ToString(),
            ExtraHTTPHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {memberToken}" },
        });
        var memberPage = await memberContext.NewPageAsync();
        foreach (var path in new[] { "/operator", "/operator/checks", "/dashboard/" })
        {
            var refused = await memberPage.GotoAsync(path);
            Assert.Equal((int)HttpStatusCode.Forbidden, refused!.Status);
        }

        await ScreenshotAsync(memberPage, "7-member-refused");

        // Signing out ends the session: the money page asks to sign in again.
        await page.ClickAsync("text=Sign out");
        await page.WaitForURLAsync("**/operator/sign-in");
        await page.GotoAsync("/operator");
        Assert.Equal("/operator/sign-in", new Uri(page.Url).AbsolutePath);
        TestReport.WriteLine(output, $"operators' pages in chromium: screenshots in {ScreenshotFolder}");
    }

    private static async Task PayAsync(BuiltProcess node, string payerToken, string merchantId, long amountWon, string idempotencyKey)
    {
        using var paid = await node.SendAsync(payerToken, HttpMethod.Post, "/v1/payments", new { merchantId, amount = amountWon }, idempotencyKey);
        Assert.True(paid.StatusCode == HttpStatusCode.Created, $"{(int)paid.StatusCode}: {await paid.Content.ReadAsStringAsync()}");
    }

    private static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });

    /// <summary>The browser <c>./mypay test</c> names (MYPAY_CHROMIUM), else Debian's.</summary>
    private static string Chromium()
    {
        var browser = Environment.GetEnvironmentVariable("MYPAY_CHROMIUM") is { Length: > 0 } named ? named : "/usr/bin/chromium";
        Assert.True(File.Exists(browser), $"No browser at {browser}: run the tests with ./mypay test, which installs Debian's chromium (scripts/chromium.sh).");
        return browser;
    }
}
