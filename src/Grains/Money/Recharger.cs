using System.Security.Cryptography;
using MyPay.Grains.Banking;
using MyPay.Grains.Members;
using MyPay.Silo.Grains;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Grains.Money;

/// <summary>
/// Recharges a wallet from the member's first linked bank account: the wallet reserves the amount against its
/// limits (and stores the pending recharge; its reminder resumes it), the bank moves the money (a
/// firmbanking request keyed by the recharge), then the wallet is credited with the ledger entries, or released
/// if the bank refused, in one write that also finishes the recharge. Waits for the bank up to a bound and
/// carries on after it. Used by the charge endpoint, by auto top-up, and by the wallet's reminder.
/// </summary>
public sealed class Recharger(IGrainFactory grains, FirmbankingOptions firmbanking, TimeProvider time)
{
    public async Task<RechargeAttempt> RechargeAsync(string memberId, long amountWon, OperationKey operation, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var member = grains.GetGrain<IMemberGrain>(memberId);
        if (await member.GetProfile() is not { Status: MemberStatus.Active })
        {
            return new RechargeAttempt(RechargeAttemptStatus.MemberNotActive, null, null);
        }

        if (await member.GetBankAccounts() is not [var account, ..])
        {
            return new RechargeAttempt(RechargeAttemptStatus.NoLinkedBankAccount, null, null);
        }

        var rechargeId = NewRechargeId();
        var pending = new RechargeRecord(
            rechargeId, memberId, amountWon, new BankAccountNumber(account.BankCode, account.AccountNumber), operation.Id, $"recharge:{rechargeId}",
            RechargeProgress.Pending, null, null, time.GetUtcNow(), null);

        // The wallet arms its reminder that resumes recharges before it writes the reservation. A repeated operation
        // gets the first reservation back, with the first recharge as it was reserved: that one is carried on (or,
        // finished, answered again, each step returning its first result).
        var reservation = await grains.GetGrain<IWalletGrain>(memberId).ReserveRecharge(pending, operation);
        if (reservation.Status != RechargeStatus.Reserved)
        {
            return new RechargeAttempt(RechargeAttemptStatus.Rejected, reservation, null);
        }

        var running = FinishAsync(reservation.Recharge);
        if (await Task.WhenAny(running, Task.Delay(wait, time, cancellationToken)) != running)
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
    /// Carries a reserved recharge to its end: the bank transfer (asked about first if it may have been sent),
    /// then the wallet's credit or release. Returns the recharge as it then stands: still pending while the bank's
    /// answer is unknown (the reminder comes back). Every step is idempotent, so it may run again, or beside itself.
    /// </summary>
    public async Task<RechargeRecord> FinishAsync(RechargeRecord recharge)
    {
        if (recharge.Status != RechargeProgress.Pending)
        {
            return recharge;
        }

        var transfer = await grains.GetGrain<IFirmbankingGrain>(recharge.FirmbankingRequestId).Execute(
            new FirmbankingCommand(recharge.MemberId, "recharge", recharge.From, firmbanking.CorporateAccount, recharge.AmountWon));
        var wallet = grains.GetGrain<IWalletGrain>(recharge.MemberId);
        switch (transfer.Status)
        {
            case FirmbankingStatus.Succeeded:
                var completedAt = transfer.CompletedAt ?? time.GetUtcNow();
                var balanceWon = await wallet.CompleteRecharge(new RechargeCompletion(recharge, transfer.FeeWon, completedAt));
                return recharge with { Status = RechargeProgress.Succeeded, BalanceAfterWon = balanceWon, CompletedAt = completedAt };
            case FirmbankingStatus.Failed:
                var failed = recharge with { Status = RechargeProgress.Failed, FailureReason = transfer.FailureReason, CompletedAt = transfer.CompletedAt };
                await wallet.ReleaseRecharge(failed);
                return failed;
            default:
                // No answer yet: the reservation and the reminder stay.
                return recharge;
        }
    }

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
