using System.Security.Cryptography;
using MyPay.Grains.Banking;
using MyPay.Grains.Members;
using MyPay.Silo.Grains;

namespace MyPay.Grains.Money;

/// <summary>
/// Recharges a wallet from the member's first linked bank account: the wallet reserves the amount against its
/// limits (and stores the pending recharge, and the bank command's index row as may-be-sent; its reminder resumes
/// it), the bank moves the money (a bank command keyed by the recharge, driven here with no grain and no write of its
/// own: <see cref="BankCommandDriver.ExecuteRecordedAsync"/>), then the wallet
/// is credited with the ledger entries, or released if the bank refused, in one write that also finishes the recharge
/// and stores the bank's answer in its bank command's row: two writes one after the other. Waits for the bank up to a bound and
/// carries on after it. Used by the charge endpoint, by auto top-up (of payments and remittances), and by the
/// wallet's reminder.
/// </summary>
public sealed class Recharger(GrainReferences grains, BankCommandDriver bank, FirmbankingOptions firmbanking, WalletLimits limits, TimeProvider time)
{
    public async Task<RechargeAttempt> RechargeAsync(string memberId, long amountWon, OperationKey operation, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var member = grains.Get<IMemberGrain>(memberId);
        var wallet = grains.Get<IWalletGrain>(memberId);
        var profile = await member.GetProfile();
        var accounts = profile is { Status: MemberStatus.Active } ? await member.GetBankAccounts() : [];
        if (profile is not { Status: MemberStatus.Active } || accounts is [])
        {
            // A retried request is answered as the first was, whatever changed since (a suspension, an unlinked account).
            return await wallet.FindRecharge(operation) is { } first
                ? await ContinueAsync(first, resumed: true, wait, cancellationToken)
                : new RechargeAttempt(profile is { Status: MemberStatus.Active } ? RechargeAttemptStatus.NoLinkedBankAccount : RechargeAttemptStatus.MemberNotActive, null, null);
        }

        var account = accounts[0];
        var rechargeId = NewRechargeId();
        var pending = new RechargeRecord(
            rechargeId, memberId, amountWon, new BankAccountNumber(account.BankCode, account.AccountNumber), operation.Id, $"recharge:{rechargeId}",
            RechargeProgress.Pending, null, null, time.GetUtcNow(), null);

        // The wallet arms its reminder that resumes recharges before it writes the reservation. A repeated operation
        // gets the first reservation back, with the first recharge as it was reserved: that one is carried on (or,
        // finished, answered again, each step returning its first result).
        var reservation = await wallet.ReserveRecharge(pending, operation);
        return await ContinueAsync(reservation, resumed: reservation.Recharge.RechargeId != rechargeId, wait, cancellationToken);
    }

    /// <summary>
    /// Auto top-up: recharges what a payment or remittance of <paramref name="neededWon"/> lacks on a balance of
    /// <paramref name="balanceWon"/>, rounded up to the recharge unit. It is keyed by the request's own key in MyPay's
    /// namespace (<see cref="TopUpKey"/>), so a retried request never tops up twice, even finding the wallet
    /// differently short.
    /// </summary>
    public Task<RechargeAttempt> TopUpAsync(string memberId, long neededWon, long balanceWon, OperationKey request, TimeSpan wait)
    {
        var unitWon = limits.RechargeUnitWon;
        var topUpWon = (neededWon - balanceWon + unitWon - 1) / unitWon * unitWon;
        return RechargeAsync(memberId, topUpWon, TopUpKey(request), wait);
    }

    /// <summary>The top-up a request made before, carried on as far as it goes; null when the request made none.</summary>
    public async Task<RechargeAttempt?> ResumeTopUpAsync(string memberId, OperationKey request, TimeSpan wait) =>
        await grains.Get<IWalletGrain>(memberId).FindRecharge(TopUpKey(request)) is { } first ? await ContinueAsync(first, resumed: true, wait) : null;

    /// <summary>The key of a request's auto top-up: one fixed request hash, as a retry may find the wallet differently short.</summary>
    public static OperationKey TopUpKey(OperationKey request) => OperationKey.Derived("auto-top-up", request.Id, "auto-top-up");

    /// <summary>The key of what a request does again once its top-up has landed.</summary>
    public static OperationKey AfterTopUpKey(OperationKey request) => OperationKey.Derived("after-top-up", request.Id, request.RequestHash);

    /// <summary>
    /// A reservation carried on (<paramref name="resumed"/>: made before, by an earlier request, so its bank command may have
    /// been sent): a refusal is the answer; a reserved recharge is driven, waited for up to
    /// <paramref name="wait"/> (<see cref="Timeout.InfiniteTimeSpan"/>: until the bank has answered or its answer is unknown), or
    /// until the caller goes away (the recharge carries on either way).
    /// </summary>
    private async Task<RechargeAttempt> ContinueAsync(RechargeOutcome reservation, bool resumed, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        if (reservation.Status != RechargeStatus.Reserved)
        {
            return new RechargeAttempt(RechargeAttemptStatus.Rejected, reservation, null);
        }

        var running = FinishAsync(reservation.Recharge, resumed);
        if (wait != Timeout.InfiniteTimeSpan && await Task.WhenAny(running, Task.Delay(wait, time, cancellationToken)) != running)
        {
            return new RechargeAttempt(RechargeAttemptStatus.Pending, reservation, null);
        }

        var record = await running;
        return new RechargeAttempt(
            record.Status switch
            {
                RechargeProgress.Succeeded => RechargeAttemptStatus.Succeeded,
                RechargeProgress.Failed => RechargeAttemptStatus.BankRefused,
                _ => RechargeAttemptStatus.Pending,
            },
            reservation,
            record);
    }

    /// <summary>
    /// Carries a reserved recharge to its end: the bank transfer (asked about first when <paramref name="resumed"/>, as it
    /// may have been sent), then the wallet's credit or release, which stores the bank's answer too: nothing else writes
    /// for a recharge's bank command. Returns the recharge as it then stands: still pending while the bank's answer is
    /// unknown (the reminder comes back). Every step is idempotent, so it may run again, or beside itself: only a request's
    /// first drive sends blind, a resumed one asks the bank first, and the bank applies the request id once.
    /// </summary>
    public async Task<RechargeRecord> FinishAsync(RechargeRecord recharge, bool resumed)
    {
        if (recharge.Status != RechargeProgress.Pending)
        {
            return recharge;
        }

        // The wallet's reservation wrote the bank command's row as may-be-sent, and its reminder carries the recharge on.
        var transfer = await bank.ExecuteRecordedAsync(recharge.FirmbankingRequestId, BankCommand(recharge), resumed);
        var wallet = grains.Get<IWalletGrain>(recharge.MemberId);
        var answer = new RechargeAnswer(recharge, transfer);
        switch (transfer.Status)
        {
            case FirmbankingStatus.Succeeded:
                var balanceWon = await wallet.CompleteRecharge(answer);
                return recharge with { Status = RechargeProgress.Succeeded, BalanceAfterWon = balanceWon, CompletedAt = answer.CompletedAt };
            case FirmbankingStatus.Failed:
                await wallet.ReleaseRecharge(answer);
                return answer.Failed;
            default:
                // No answer yet: the reservation and the reminder stay.
                return recharge;
        }
    }

    /// <summary>The bank command that moves a recharge's amount from the member's account to MyPay's.</summary>
    public FirmbankingCommand BankCommand(RechargeRecord recharge) =>
        new(recharge.MemberId, "recharge", recharge.From, firmbanking.CorporateAccount, recharge.AmountWon);

    /// <summary>"rc" and 20 hex digits: unguessable, and valid as part of a bank request id.</summary>
    private static string NewRechargeId() => "rc" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
}

public enum RechargeAttemptStatus
{
    Succeeded,
    Pending,
    BankRefused,
    Rejected,
    NoLinkedBankAccount,
    MemberNotActive,
}

/// <summary>How far a recharge got: its reservation (when one was made) and its record (when it finished in time).</summary>
public sealed record RechargeAttempt(RechargeAttemptStatus Status, RechargeOutcome? Reservation, RechargeRecord? Record);
