using Microsoft.Extensions.Options;
using MyPay.BankSimulator.Banks;
using MyPay.BankSimulator.Faults;
using MyPay.BankSimulator.Hosting;
using MyPay.BankSimulator.Ledger;

namespace MyPay.BankSimulator.Accounts;

public static class AccountEndpoints
{
    public static WebApplication MapAccounts(this WebApplication app)
    {
        app.MapPost("/accounts", OpenAsync);
        var account = app.MapGroup("/banks/{bankCode}/accounts/{accountNumber}");
        account.MapGet("/", GetAsync);
        account.MapPatch("/", ChangeAsync);
        app.MapGet("/corporate", GetCorporateAsync);
        app.MapGet("/corporate/statement", GetCorporateStatementAsync);
        return app;
    }

    /// <summary>Opens an account, for tests and demos. Never suffers faults: it is set-up, not banking.</summary>
    private static async Task<Results<Created<AccountResponse>, ValidationProblem, ProblemHttpResult>> OpenAsync(OpenAccountRequest request, BankLedger ledger)
    {
        var errors = new ValidationErrors();
        if (AccountRules.TryCreate(request, errors) is not { } account)
        {
            return errors.ToProblem();
        }

        if (!BankDirectory.Exists(account.Key.BankCode))
        {
            return Problems.UnknownBank(account.Key.BankCode);
        }

        return await ledger.OpenAsync(account) switch
        {
            OpenAccountResult.Opened => TypedResults.Created(Location(account.Key), AccountResponse.Of(account)),
            OpenAccountResult.AlreadyExists => Problems.Problem(
                StatusCodes.Status409Conflict,
                "account-exists",
                "The account already exists.",
                $"Bank {account.Key.BankCode} already has account {account.Key.AccountNumber}; GET {Location(account.Key)} shows it."),
            OpenAccountResult.LedgerFull => Problems.Problem(
                StatusCodes.Status503ServiceUnavailable,
                "ledger-full",
                "The simulator cannot hold more accounts.",
                $"The simulator holds its limit of accounts (Bank:AccountsMax); account {account.Key} was not opened."),
            var result => throw new InvalidOperationException($"Unexpected result {result} of opening account {account.Key}."),
        };
    }

    /// <summary>
    /// What MyPay asks before linking an account: does it exist, is it open, whose is it. Suffers the
    /// faults of its bank, as a real inquiry (예금주 조회) would.
    /// </summary>
    private static async Task<Results<Ok<AccountResponse>, ValidationProblem, ProblemHttpResult, LostResponse>> GetAsync(
        string bankCode, string accountNumber, BankLedger ledger, FaultInjector faults, CancellationToken cancellationToken)
    {
        var errors = RouteErrors(bankCode, accountNumber);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // A bank outside the network has no faults to suffer, and no accounts.
        if (!BankDirectory.Exists(bankCode))
        {
            return Problems.UnknownBank(bankCode);
        }

        var injection = await faults.InjectAsync([bankCode], cancellationToken);
        return injection.Fault switch
        {
            InjectedFault.BankUnavailable => FaultEndpoints.BankUnavailable([bankCode], injection.ErrorStatus),
            InjectedFault.LostResponse => LostResponse.Instance,
            _ => await ledger.FindAccountAsync(new AccountKey(bankCode, accountNumber), cancellationToken) is { } account
                ? TypedResults.Ok(AccountResponse.Of(account))
                : UnknownAccount(bankCode, accountNumber),
        };
    }

    /// <summary>Closes or reopens an account, for tests. Never suffers faults.</summary>
    private static async Task<Results<Ok<AccountResponse>, ValidationProblem, ProblemHttpResult>> ChangeAsync(
        string bankCode, string accountNumber, ChangeAccountRequest request, BankLedger ledger)
    {
        var errors = RouteErrors(bankCode, accountNumber).Add("status", request.Status is null ? "is required: \"open\" or \"closed\"." : null);
        if (errors.Any || request.Status is not { } status)
        {
            return errors.ToProblem();
        }

        if (!BankDirectory.Exists(bankCode))
        {
            return Problems.UnknownBank(bankCode);
        }

        return await ledger.ChangeStatusAsync(new AccountKey(bankCode, accountNumber), status) is { } account
            ? TypedResults.Ok(AccountResponse.Of(account))
            : UnknownAccount(bankCode, accountNumber);
    }

    /// <summary>
    /// MyPay's corporate account, opened at start, for reconciliation (대사) against MyPay's ledger.
    /// Never suffers faults: it is the statement a test or an operator compares against.
    /// </summary>
    private static async Task<Ok<AccountResponse>> GetCorporateAsync(BankLedger ledger, IOptions<BankOptions> options, CancellationToken cancellationToken)
    {
        var key = options.Value.CorporateAccount;
        var account = await ledger.FindAccountAsync(key, cancellationToken)
            ?? throw new InvalidOperationException($"The corporate account {key} is missing; it is opened at start and never removed.");
        return TypedResults.Ok(AccountResponse.Of(account));
    }

    /// <summary>
    /// The corporate account's statement, line by line (by request id), oldest first: what reconciliation (대사) compares
    /// MyPay's ledger with. Each line is the amount that moved (into the account positive, out of it negative) and the
    /// fee the bank charged the account for it. Never suffers faults, as <c>/corporate</c>.
    /// </summary>
    private static async Task<Ok<StatementResponse>> GetCorporateStatementAsync(BankLedger ledger, IOptions<BankOptions> options, CancellationToken cancellationToken)
    {
        var key = options.Value.CorporateAccount;
        var lines = await ledger.CorporateStatementAsync(cancellationToken);
        var balanceWon = (await ledger.FindAccountAsync(key, cancellationToken))?.BalanceWon
            ?? throw new InvalidOperationException($"The corporate account {key} is missing; it is opened at start and never removed.");
        return TypedResults.Ok(new StatementResponse(
            key.BankCode,
            key.AccountNumber,
            balanceWon,
            [.. lines.Select(line => new StatementLine(line.Order.RequestId, line.Order.To == key ? line.Order.AmountWon : -line.Order.AmountWon, line.FeeWon, line.CompletedAt))]));
    }

    public sealed record StatementResponse(string BankCode, string AccountNumber, long Balance, StatementLine[] Lines);

    public sealed record StatementLine(string RequestId, long Amount, long Fee, DateTimeOffset CompletedAt);

    private static string Location(AccountKey key) => $"/banks/{key.BankCode}/accounts/{key.AccountNumber}";

    /// <summary>A malformed code or number in the path is a 400: no account could ever live there.</summary>
    private static ValidationErrors RouteErrors(string bankCode, string accountNumber) => new ValidationErrors()
        .Add("bankCode", AccountRules.BankCodeError(bankCode))
        .Add("accountNumber", AccountRules.AccountNumberError(accountNumber));

    private static ProblemHttpResult UnknownAccount(string bankCode, string accountNumber) => Problems.Problem(
        StatusCodes.Status404NotFound,
        "unknown-account",
        "The bank has no such account.",
        $"Bank {bankCode} has no account {ValidationErrors.Quote(accountNumber)}.");
}
