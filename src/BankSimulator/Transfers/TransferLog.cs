using MyPay.BankSimulator.Accounts;

namespace MyPay.BankSimulator.Transfers;

public static partial class TransferLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Transfer {RequestId} of {AmountWon} won from {From} to {To}: {Status} {Reason}")]
    public static partial void Recorded(ILogger logger, string requestId, long amountWon, AccountKey from, AccountKey to, TransferStatus status, TransferFailureReason? reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Transfer {RequestId} repeated: answered with its first outcome, {Status}")]
    public static partial void Replayed(ILogger logger, string requestId, TransferStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request id {RequestId} reused with another transfer; refused")]
    public static partial void RequestIdReused(ILogger logger, string requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The books hold {TransfersMax} transfers, their limit (Bank:TransfersMax); transfer {RequestId} refused")]
    public static partial void LedgerFull(ILogger logger, int transfersMax, string requestId);
}
