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
/// The books outlive the process: an account a previous start opened is kept as it is now (its balance,
/// its status), and only the missing ones are opened.
/// </summary>
public static class StartingAccounts
{
    /// <summary>Most accounts a seed file may hold: it is for samples, and POST /accounts is for the rest.</summary>
    public const int SeedAccountsMax = 10_000;

    public static async Task OpenStartingAccountsAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<BankOptions>>().Value;
        var ledger = app.Services.GetRequiredService<BankLedger>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StartingAccounts));

        var corporate = new Account(options.CorporateAccount, options.CorporateHolderName.Trim(), AccountStatus.Open, options.CorporateStartingBalanceWon);
        if (await OpenAsync(ledger, corporate, "the corporate account"))
        {
            SeedingLog.CorporateOpened(logger, corporate.Key, corporate.HolderName, corporate.BalanceWon);
        }

        if (options.SeedFilePath is { } path)
        {
            var json = app.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            var accounts = Read(path, json);
            var named = new HashSet<AccountKey> { corporate.Key };
            var opened = 0;
            for (var index = 0; index < accounts.Count; index++)
            {
                var errors = new ValidationErrors();
                var account = AccountRules.TryCreate(accounts[index], errors)
                    ?? throw new InvalidOperationException($"Seed file '{path}', account {index}: {errors}");
                var source = $"seed file '{path}', account {index}";
                if (!named.Add(account.Key))
                {
                    throw new InvalidOperationException($"{source}: account {account.Key} is the corporate account or an earlier entry.");
                }

                opened += await OpenAsync(ledger, account, source) ? 1 : 0;
            }

            SeedingLog.Seeded(logger, opened, accounts.Count - opened, path);
        }
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

    /// <summary>Opens the account unless the books hold it from an earlier start; false when they did.</summary>
    private static async Task<bool> OpenAsync(BankLedger ledger, Account account, string source)
    {
        if (!BankDirectory.Exists(account.Key.BankCode))
        {
            throw new InvalidOperationException($"{source}: bank '{account.Key.BankCode}' is not a bank of this network.");
        }

        return await ledger.OpenAsync(account) switch
        {
            OpenAccountResult.Opened => true,
            OpenAccountResult.AlreadyExists => false,
            var result => throw new InvalidOperationException($"{source}: account {account.Key} could not be opened ({result})."),
        };
    }

    /// <summary>The seed file: <c>{"accounts": [ ...bodies of POST /accounts... ]}</c>.</summary>
    private sealed record SeedFile(List<OpenAccountRequest>? Accounts);
}

public static partial class SeedingLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Corporate account {Account} of {HolderName} opened with {BalanceWon} won")]
    public static partial void CorporateOpened(ILogger logger, AccountKey account, string holderName, long balanceWon);

    [LoggerMessage(Level = LogLevel.Information, Message = "{OpenedCount} accounts seeded from {Path}; {KeptCount} were in the books already")]
    public static partial void Seeded(ILogger logger, int openedCount, int keptCount, string path);
}
