using System.Security.Cryptography;
using MyPay.Grains.Banking;
using MyPay.Grains.Members;
using MyPay.Silo.Grains;

namespace MyPay.Grains.Money;

/// <summary>
/// Recharges a wallet from the member's first linked bank account: reserve against the limits, then run
/// the recharge grain, waiting for the bank up to a bound. Used by the charge endpoint and by auto top-up.
/// </summary>
public sealed class Recharger(IGrainFactory grains, TimeProvider time)
{
    public async Task<RechargeAttempt> RechargeAsync(string memberId, long amountWon, OperationKey operation, TimeSpan wait)
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

        // A repeated operation gets the first reservation back, with the first recharge id: Start then continues (or returns) that recharge.
        var reservation = await grains.GetGrain<IWalletGrain>(memberId).ReserveRecharge(NewRechargeId(), amountWon, operation);
        if (reservation.Status != RechargeStatus.Reserved)
        {
            return new RechargeAttempt(RechargeAttemptStatus.Rejected, reservation, null);
        }

        var running = grains.GetGrain<IRechargeGrain>(reservation.RechargeId).Start(
            new RechargeRequest(memberId, amountWon, new BankAccountNumber(account.BankCode, account.AccountNumber), operation.Id, time.GetUtcNow()));
        if (await Task.WhenAny(running, Task.Delay(wait, time)) != running)
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
