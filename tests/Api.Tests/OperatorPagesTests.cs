using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace MyPay.Api.Tests;

/// <summary>
/// The operators' pages (/operator, /operator/checks), rendered on the server: for operators only, they show money
/// as it moves (a payment counted, a failed bank command, what a merchant is owed, a commission change) and the
/// ledger check's and reconciliation's verdicts.
/// </summary>
public sealed partial class OperatorPagesTests(BankFixture fixture) : NodeTests(fixture), IClassFixture<BankFixture>
{
    [Theory]
    [InlineData("/operator")]
    [InlineData("/operator/checks")]
    public async Task APage_WithoutSigningIn_SendsTheBrowserToSignIn(string path)
    {
        using var browser = App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var response = await browser.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/operator/sign-in", response.Headers.Location!.AbsolutePath);
        Assert.Contains("ReturnUrl=" + Uri.EscapeDataString(path), response.Headers.Location.Query, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/operator")]
    [InlineData("/operator/checks")]
    public async Task APage_ForAMember_IsForbidden(string path)
    {
        var member = await App.RegisterAsync();

        using var response = await member.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task MoneyPage_ShowsAPaymentAFailedBankCommandWhatTheMerchantIsOwedAndACommissionChange()
    {
        using var operatorClient = await App.OperatorAsync();
        var merchant = await App.RegisterAsync("merchant", "페이지 상점");
        var payer = await Fixture.MemberWithWalletAsync(App, 50_000);
        using (var rate = await operatorClient.PutAsJsonAsync($"/v1/merchants/{merchant.Id}/commission", new { rateBps = 310 }))
        {
            Assert.Equal(HttpStatusCode.OK, rate.StatusCode);
        }

        using (var paid = await payer.Client.PayAsync(merchant.Id, 12_345, "page-payment"))
        {
            Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        }

        // A recharge the member's bank account cannot cover: the bank refuses the transfer.
        var poor = await Fixture.FundedMemberAsync(App, bankBalanceWon: 5_000);
        using (var refused = await poor.Client.RechargeAsync(poor.Id, 10_000, "page-refused"))
        {
            Assert.False(refused.IsSuccessStatusCode, await refused.Content.ReadAsStringAsync());
        }

        var page = await WaitForPageAsync(operatorClient, "/operator", html => Field(html, "payments-last-minute") == "1");

        Assert.Equal("12,345 won", Field(page, "payment-volume-last-minute"));
        Assert.Equal("1", Field(page, "bank-failed"));
        Assert.Contains($"<td>{poor.Id}</td>", page, StringComparison.Ordinal);
        Assert.Equal("1", Field(page, "merchants-pending"));
        Assert.Contains($"<td>{merchant.Id}</td><td class=\"number\">1</td><td class=\"number\">11,963 won</td>", page, StringComparison.Ordinal);
        Assert.Contains($"<td>{merchant.Id}</td>", page, StringComparison.Ordinal);
        Assert.Contains("<td>3.10%</td>", page, StringComparison.Ordinal);
        Assert.Equal("0", Field(page, "dead-letters"));
        Assert.Equal("2.50%", Field(page, "default-commission"));
        Assert.Matches("<rect [^>]*fill=\"#2f6fba\"", page);
    }

    /// <summary>The page once <paramref name="condition"/> holds: its figures trail the events on their way (bounded wait).</summary>
    public static async Task<string> WaitForPageAsync(HttpClient client, string path, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
            var html = await response.Content.ReadAsStringAsync();
            if (condition(html) || DateTime.UtcNow > deadline)
            {
                Assert.True(condition(html), html);
                return html;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The text of the element with <paramref name="id"/>, up to its first child element, trimmed; empty when absent.</summary>
    public static string Field(string html, string id)
    {
        var match = Regex.Match(html, $"""id="{Regex.Escape(id)}"[^>]*>(?<text>[^<]*)""");
        return match.Success ? WebUtility.HtmlDecode(match.Groups["text"].Value).Trim() : "";
    }
}

/// <summary>The checks page, in a database of its own: its totals are the whole ledger's.</summary>
public sealed class OperatorChecksPageTests(BankFixture fixture) : NodeTests(fixture), IClassFixture<BankFixture>
{
    [Fact]
    public async Task ChecksPage_AfterMoneyMoved_SaysTheLedgerAndTheBankAgree()
    {
        using var operatorClient = await App.OperatorAsync();
        var merchant = await App.RegisterAsync("merchant");
        var payer = await Fixture.MemberWithWalletAsync(App, 30_000);
        using (var paid = await payer.Client.PayAsync(merchant.Id, 7_000, "checks-payment"))
        {
            Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        }

        var page = await OperatorPagesTests.WaitForPageAsync(operatorClient, "/operator/checks", html => OperatorPagesTests.Field(html, "reconciliation-verdict").StartsWith("Consistent", StringComparison.Ordinal));

        Assert.StartsWith("Consistent", OperatorPagesTests.Field(page, "ledger-verdict"), StringComparison.Ordinal);
        Assert.Equal("0 won", OperatorPagesTests.Field(page, "ledger-total"));
        var walletsTotal = await Fixture.Database.ScalarAsync<long>("SELECT coalesce(sum(balance), 0)::bigint FROM wallet_balance");
        Assert.Equal(30_000 - 7_000, walletsTotal);
        Assert.Equal($"{walletsTotal:N0} won", OperatorPagesTests.Field(page, "wallets-total"));
        Assert.Equal($"{walletsTotal:N0} won", OperatorPagesTests.Field(page, "wallets-total-in-ledger"));
        Assert.Equal("0", OperatorPagesTests.Field(page, "lines-unmatched"));
    }
}
