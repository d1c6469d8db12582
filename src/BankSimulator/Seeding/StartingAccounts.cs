using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using MyPay.BankSimulator.Accounts;
using MyPay.BankSimulator.Banks;
using MyPay.BankSimulator.Hosting;
using MyPay.BankSimulator.Ledger;

namespace MyPay.BankSimulator.Seeding;

/// <summary>
/// The accounts that exist before the first request: MyPay's corporate account, then the seed file's.
/// Opened before the server listens, so a client never sees a half-seeded bank; any bad entry stops
/// the start-up, naming the entry and its fault, rather than leaving a bank with accounts missing.
/// </summary>
public static class StartingAccounts
{
    /// <summary>Most accounts a seed file may hold: it is for samples, and POST /accounts is for the rest.</summary>
    public const int SeedAccountsMax = 10_000;

    public static WebApplication OpenStartingAccounts(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<BankOptions>>().Value;
        var ledger = app.Services.GetRequiredService<BankLedger>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StartingAccounts));

        var corporate = new Account(options.CorporateAccount, options.CorporateHolderName.Trim(), AccountStatus.Open, options.CorporateStartingBalanceWon);
        Open(ledger, corporate, "the corporate account");
        SeedingLog.CorporateOpened(logger, corporate.Key, corporate.HolderName, corporate.BalanceWon);

        if (options.SeedFilePath is { } path)
        {
            var json = app.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            var accounts = Read(path, json);
            for (var index = 0; index < accounts.Count; index++)
            {
                var errors = new ValidationErrors();
                var account = AccountRules.TryCreate(accounts[index], errors)
                    ?? throw new InvalidOperationException($"Seed file '{path}', account {index}: {errors}");
                Open(ledger, account, $"seed file '{path}', account {index}");
            }

            SeedingLog.Seeded(logger, accounts.Count, path);
        }

        return app;
    }

    private static List<OpenAccountRequest> Read(string path, JsonSerializerOptions json)
    {
        SeedFile? seed;
        try
        {
            seed = JsonSerializer.Deserialize<SeedFile>(File.ReadAllText(path), json);
        }
        catch (JsonException exception)
        {
            throw new InvalidOperationException($"Seed file '{path}' is not valid JSON of the form {{\"accounts\": [...]}}: {exception.Message}", exception);
        }

        var accounts = seed?.Accounts ?? throw new InvalidOperationException($"Seed file '{path}' has no \"accounts\" array.");
        return accounts.Count <= SeedAccountsMax
            ? accounts
            : throw new InvalidOperationException($"Seed file '{path}' holds {accounts.Count} accounts; at most {SeedAccountsMax} are seeded.");
    }

    private static void Open(BankLedger ledger, Account account, string source)
    {
        if (!BankDirectory.Exists(account.Key.BankCode))
        {
            throw new InvalidOperationException($"{source}: bank '{account.Key.BankCode}' is not a bank of this network.");
        }

        var result = ledger.Open(account);
        if (result != OpenAccountResult.Opened)
        {
            throw new InvalidOperationException($"{source}: account {account.Key} could not be opened ({result}).");
        }
    }

    /// <summary>The seed file: <c>{"accounts": [ ...bodies of POST /accounts... ]}</c>.</summary>
    private sealed record SeedFile(List<OpenAccountRequest>? Accounts);
}

public static partial class SeedingLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Corporate account {Account} of {HolderName} opened with {BalanceWon} won")]
    public static partial void CorporateOpened(ILogger logger, AccountKey account, string holderName, long balanceWon);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} accounts seeded from {Path}")]
    public static partial void Seeded(ILogger logger, int count, string path);
}
