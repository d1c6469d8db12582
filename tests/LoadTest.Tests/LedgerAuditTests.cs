using MyPay.LoadTest.Client;
using MyPay.LoadTest.Running;
using MyPay.LoadTest.Verification;

namespace MyPay.LoadTest.Tests;

/// <summary>Each rule of the audit, on made-up histories: it passes what is right and names what is wrong.</summary>
public class LedgerAuditTests
{
    private static readonly Dictionary<string, string> noneSettled = [];

    [Fact]
    public void Audit_EveryRequestOnceWithItsAmounts_Passes()
    {
        SentRequest[] sent = [Recharge("k1", 200, "r1"), Payment("k2", 201, "p1", 700)];
        var wallets = Wallets(9_300, Entry("recharge", 10_000, "r1", "k1"), Entry("payment", -700, "p1", "k2"));

        Assert.All(LedgerAudit.Audit(sent, noneSettled, wallets), check => Assert.True(check.Passed, check.Detail));
    }

    [Fact]
    public void Audit_AcknowledgedButMissing_Fails()
    {
        var checks = LedgerAudit.Audit([Payment("k2", 201, "p1", 700)], noneSettled, Wallets(0));

        Assert.False(Check(checks, "every acknowledged request is in the ledger exactly once").Passed);
    }

    [Fact]
    public void Audit_AcknowledgedTwice_FailsTwoRules()
    {
        var checks = LedgerAudit.Audit(
            [Recharge("k1", 200, "r1")], noneSettled, Wallets(20_000, Entry("recharge", 10_000, "r1", "k1"), Entry("recharge", 10_000, "r1", "k1", "e2")));

        Assert.False(Check(checks, "every acknowledged request is in the ledger exactly once").Passed);
        Assert.False(Check(checks, "no Idempotency-Key is in the ledger twice").Passed);
    }

    [Fact]
    public void Audit_WrongAmountOrId_Fails()
    {
        var wrongAmount = LedgerAudit.Audit([Payment("k2", 201, "p1", 700)], noneSettled, Wallets(-70, Entry("payment", -70, "p1", "k2")));
        var wrongId = LedgerAudit.Audit([Payment("k2", 201, "p1", 700)], noneSettled, Wallets(-700, Entry("payment", -700, "p9", "k2")));

        Assert.Contains("70 won", Check(wrongAmount, "every acknowledged request is in the ledger exactly once").Detail, StringComparison.Ordinal);
        Assert.Contains("p9", Check(wrongId, "every acknowledged request is in the ledger exactly once").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_RefusedButApplied_Fails()
    {
        var checks = LedgerAudit.Audit(
            [Payment("k2", 422, null, 700, "422 insufficient-funds")], noneSettled, Wallets(-700, Entry("payment", -700, "p1", "k2")));

        Assert.False(Check(checks, "no refused request moved money").Passed);
    }

    [Fact]
    public void Audit_UnansweredAppliedOnceOrNot_Passes_TwiceFails()
    {
        SentRequest[] sent = [Recharge("k1", 0, null, "timeout"), Recharge("k3", 503, null, "503 bank-unavailable")];
        var once = LedgerAudit.Audit(sent, noneSettled, Wallets(10_000, Entry("recharge", 10_000, "r1", "k1")));
        var twice = LedgerAudit.Audit(sent, noneSettled, Wallets(20_000, Entry("recharge", 10_000, "r1", "k1"), Entry("recharge", 10_000, "r2", "k1", "e2")));

        Assert.True(Check(once, "unanswered requests are in the ledger at most once").Passed);
        Assert.Contains("1 applied once, 1 not applied", Check(once, "unanswered requests are in the ledger at most once").Detail, StringComparison.Ordinal);
        Assert.False(Check(twice, "unanswered requests are in the ledger at most once").Passed);
    }

    [Fact]
    public void Audit_UnansweredInTheRun_AnsweredWhenSentAgain_IsHeldToThatAnswer()
    {
        SentRequest[] sent = [Payment("k2", 201, "p1", 700) with { OutcomeInRun = "503 node-unavailable" }];
        var kept = LedgerAudit.Audit(sent, noneSettled, Wallets(-700, Entry("payment", -700, "p1", "k2")));
        var lost = LedgerAudit.Audit(sent, noneSettled, Wallets(0));

        var answered = Check(kept, "every request is answered, if need be when sent again with its key");
        Assert.True(answered.Passed, answered.Detail);
        Assert.Contains("1 request left unanswered by the run (503 node-unavailable: 1), sent again with their keys: 1 acknowledged, 0 refused", answered.Detail, StringComparison.Ordinal);
        Assert.True(Check(kept, "every acknowledged request is in the ledger exactly once").Passed);
        Assert.False(Check(lost, "every acknowledged request is in the ledger exactly once").Passed);
    }

    [Fact]
    public void Audit_AcceptedRecharge_FollowsWhatItSettledTo()
    {
        SentRequest[] sent = [Recharge("k1", 202, "r1"), Recharge("k2", 202, "r2"), Recharge("k3", 202, "r3")];
        var settled = new Dictionary<string, string> { ["r1"] = "succeeded", ["r2"] = "failed", ["r3"] = "pending" };

        Assert.Equal(Expectation.ExactlyOnce, LedgerAudit.Expect(sent[0], settled));
        Assert.Equal(Expectation.Never, LedgerAudit.Expect(sent[1], settled));
        Assert.Equal(Expectation.StillPending, LedgerAudit.Expect(sent[2], settled));
        var checks = LedgerAudit.Audit(sent, settled, Wallets(10_000, Entry("recharge", 10_000, "r1", "k1")));
        Assert.Contains("still pending", Check(checks, "every acknowledged request is in the ledger exactly once").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_AutoTopUpOfAPayment_IsExplained_AnyOtherEntryIsNot()
    {
        SentRequest[] sent = [Payment("k2", 201, "p1", 700)];
        // As the node keys them: the top-up and the payment made after it, each "{step} {the payment's key}".
        var explained = LedgerAudit.Audit(sent, noneSettled, Wallets(9_300, Entry("recharge", 10_000, "r1", "auto-top-up k2"), Entry("payment", -700, "p1", "after-top-up k2")));
        var stray = LedgerAudit.Audit(sent, noneSettled, Wallets(9_300, Entry("recharge", 10_000, "r1", "other"), Entry("payment", -700, "p1", "k2")));
        var notAPayment = LedgerAudit.Audit(sent, noneSettled, Wallets(9_300, Entry("recharge", 10_000, "r1", "auto-top-up k9"), Entry("payment", -700, "p1", "k2")));

        Assert.True(Check(explained, "every wallet entry is one of the client's requests").Passed);
        Assert.Contains("1 automatic top-ups", Check(explained, "every wallet entry is one of the client's requests").Detail, StringComparison.Ordinal);
        Assert.False(Check(stray, "every wallet entry is one of the client's requests").Passed);
        Assert.False(Check(notAPayment, "every wallet entry is one of the client's requests").Passed);
    }

    [Fact]
    public void Audit_BalanceDifferentFromHistory_Fails()
    {
        var checks = LedgerAudit.Audit([Recharge("k1", 200, "r1")], noneSettled, Wallets(10_001, Entry("recharge", 10_000, "r1", "k1")));

        Assert.False(Check(checks, "each wallet's balance equals the sum of its history").Passed);
    }

    private static SentRequest Recharge(string key, int status, string? reference, string? outcome = null) =>
        new("m1", RequestKind.Recharge, key, 10_000, status, outcome ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture), reference);

    private static SentRequest Payment(string key, int status, string? reference, long amountWon, string? outcome = null) =>
        new("m1", RequestKind.Payment, key, amountWon, status, outcome ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture), reference, "merchant-1");

    private static HistoryItem Entry(string kind, long amountWon, string requestId, string key, string? entryId = null) =>
        new(kind, amountWon, requestId, key, entryId ?? $"{kind}:{requestId}");

    private static Dictionary<string, WalletRecord> Wallets(long balanceWon, params HistoryItem[] history) => new() { ["m1"] = new WalletRecord(history, balanceWon) };

    private static CheckResult Check(IReadOnlyList<CheckResult> checks, string name) => Assert.Single(checks, check => check.Name == name);
}
