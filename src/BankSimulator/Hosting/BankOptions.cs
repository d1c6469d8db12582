using Microsoft.Extensions.Options;
using MyPay.BankSimulator.Accounts;
using MyPay.BankSimulator.Banks;

namespace MyPay.BankSimulator.Hosting;

/// <summary>The <c>Bank</c> configuration section. Every value is checked at start-up.</summary>
public sealed class BankOptions
{
    public const string SectionName = "Bank";

    public const int CapacityMax = 10_000_000;

    /// <summary>The bank of MyPay's corporate account. Default "088" (신한은행).</summary>
    public string CorporateBankCode { get; set; } = "088";

    /// <summary>The number of MyPay's corporate account. Default "100-000-000001".</summary>
    public string CorporateAccountNumber { get; set; } = "100-000-000001";

    /// <summary>The holder of MyPay's corporate account. Default "MyPay Corp.".</summary>
    public string CorporateHolderName { get; set; } = "MyPay Corp.";

    /// <summary>
    /// The corporate account's balance at start, in won. Default 0: MyPay's ledger starts with no
    /// corporate cash, and reconciliation compares the two from there.
    /// </summary>
    public long CorporateStartingBalanceWon { get; set; }

    /// <summary>
    /// What the bank charges MyPay per completed transfer to or from the corporate account, debited from that
    /// account in the same step, in won. Default 300, a typical Korean firmbanking fee. Its transfer answers
    /// carry it as <c>fee</c>, so MyPay books exactly what the bank took.
    /// </summary>
    public long CorporateFeeWon { get; set; } = 300;

    /// <summary>
    /// The JSON file of accounts opened at start, relative to the application's directory (or absolute).
    /// Default "seed.json", shipped next to the app. Empty: no accounts but the corporate one.
    /// </summary>
    public string SeedFile { get; set; } = "seed.json";

    /// <summary>
    /// Seed of the random numbers that decide injected faults. Default none (a different sequence each
    /// run). With a seed, one client sending one request at a time sees the same faults every run;
    /// concurrent requests draw in arrival order, which varies.
    /// </summary>
    public int? RandomSeed { get; set; }

    /// <summary>
    /// Most accounts the books hold, 1 to 10,000,000. Default 100,000: ample for a load test, and a
    /// bound on the database. Past it, opening an account is refused with 503 <c>ledger-full</c>.
    /// </summary>
    public int AccountsMax { get; set; } = 100_000;

    /// <summary>
    /// Most transfers (succeeded or failed) the books record, 1 to 10,000,000. Default 1,000,000, a few
    /// hundred megabytes of database at most. Transfers are never forgotten, since a forgotten request id
    /// could move money twice; past the bound new transfers are refused with 503 <c>ledger-full</c>, across
    /// restarts too (the count is in the books), until the bound is raised or the bank starts on fresh books.
    /// </summary>
    public int TransfersMax { get; set; } = 1_000_000;

    /// <summary>The seed file's full path, or null when seeding is turned off.</summary>
    public string? SeedFilePath => string.IsNullOrEmpty(SeedFile) ? null : Path.GetFullPath(SeedFile, AppContext.BaseDirectory);

    public AccountKey CorporateAccount => new(CorporateBankCode, CorporateAccountNumber);
}

public static class BankOptionsSetup
{
    public static IServiceCollection AddBankOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<BankOptions>, BankOptionsValidator>();
        services.AddOptions<BankOptions>()
            .Bind(configuration.GetSection(BankOptions.SectionName))
            .ValidateOnStart();
        return services;
    }

    /// <summary>Names every bad value at once, so one failed start-up is enough to fix the configuration.</summary>
    private sealed class BankOptionsValidator : IValidateOptions<BankOptions>
    {
        public ValidateOptionsResult Validate(string? name, BankOptions options)
        {
            var errors = new ValidationErrors()
                .Add(nameof(options.CorporateBankCode), AccountRules.BankCodeError(options.CorporateBankCode)
                    ?? (BankDirectory.Exists(options.CorporateBankCode) ? null : $"bank '{options.CorporateBankCode}' is not a bank of this network."))
                .Add(nameof(options.CorporateAccountNumber), AccountRules.AccountNumberError(options.CorporateAccountNumber))
                .Add(nameof(options.CorporateHolderName), AccountRules.HolderNameError(options.CorporateHolderName))
                .Add(nameof(options.CorporateStartingBalanceWon), AccountRules.BalanceError(options.CorporateStartingBalanceWon))
                .Add(nameof(options.CorporateFeeWon), options.CorporateFeeWon is < 0 or > 100_000 ? $"must be 0 to 100000 won; got {options.CorporateFeeWon}." : null)
                .Add(nameof(options.SeedFile), options.SeedFilePath is { } path && !File.Exists(path)
                    ? $"'{path}' does not exist; set {BankOptions.SectionName}:{nameof(options.SeedFile)} to an existing file, or to \"\" for none."
                    : null)
                .Add(nameof(options.AccountsMax), CapacityError(options.AccountsMax))
                .Add(nameof(options.TransfersMax), CapacityError(options.TransfersMax));
            return errors.Any
                ? ValidateOptionsResult.Fail($"{BankOptions.SectionName} options are not valid: {errors}")
                : ValidateOptionsResult.Success;
        }

        private static string? CapacityError(int capacity) =>
            capacity is < 1 or > BankOptions.CapacityMax ? $"must be 1 to {BankOptions.CapacityMax}; got {capacity}." : null;
    }
}
