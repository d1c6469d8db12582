using System.CommandLine;
using System.Globalization;
using System.Numerics;
using MyPay.LoadTest.Scenarios;

namespace MyPay.LoadTest.CommandLine;

/// <summary>The command line: every option with its default and bounds. A bad argument is exit code 2, before anything is sent.</summary>
public sealed class LoadTestCommand
{
    public const string OperatorPasswordVariable = "MYPAY_OPERATOR_PASSWORD";

    private readonly Option<string> nodeUrl = new("--node-url")
    {
        Description = "The MyPay node.",
        DefaultValueFactory = _ => "http://127.0.0.1:5080",
    };

    private readonly Option<string?> payUrl = new("--pay-url")
    {
        Description = "Where payments and wallet balances are sent, if not to the node: a peer on the node's database (bench/Peer).",
    };

    private readonly Option<string> bankUrl = new("--bank-url")
    {
        Description = "The bank simulator, where the customers' bank accounts are opened.",
        DefaultValueFactory = _ => "http://127.0.0.1:5090",
    };

    private readonly Option<string?> operatorPassword = new("--operator-password")
    {
        Description = $"The operator's password, for the ledger check. Default: ${OperatorPasswordVariable}.",
    };

    private readonly Option<string> scenarioName = new("--scenario")
    {
        Description = "What to send: recharge (the charge endpoint), pay (uniform payers and merchants), hot-wallet (one payer), hot-merchant (one merchant), mixed.",
        DefaultValueFactory = _ => "pay",
    };

    private readonly Option<int> members = new("--members")
    {
        Description = "Customers to prepare: registered, with a funded bank account linked. hot-wallet uses one.",
        DefaultValueFactory = _ => 50,
    };

    private readonly Option<int> merchants = new("--merchants")
    {
        Description = "Merchants to register. recharge uses none, hot-merchant one.",
        DefaultValueFactory = _ => 10,
    };

    private readonly Option<int> durationSeconds = new("--duration")
    {
        Description = "Seconds of measured load.",
        DefaultValueFactory = _ => 10,
    };

    private readonly Option<int> concurrency = new("--concurrency")
    {
        Description = "Workers, each with one request in flight.",
        DefaultValueFactory = _ => 32,
    };

    private readonly Option<int> rate = new("--rate")
    {
        Description = "Requests per second, paced open-loop: each is due at its time and its latency counts from then, so waiting for a free worker shows. 0: each worker sends as soon as it is answered.",
        DefaultValueFactory = _ => 0,
    };

    private readonly Option<int> warmupSeconds = new("--warmup")
    {
        Description = "Seconds of load before measuring starts; its requests are verified but not measured.",
        DefaultValueFactory = _ => 2,
    };

    private readonly Option<bool> json = new("--json")
    {
        Description = "Print one JSON object on stdout instead of the table.",
    };

    private readonly Option<int?> seed = new("--seed")
    {
        Description = "Seed for the choice of payers, merchants and amounts. Default: random, and printed.",
    };

    private readonly Option<long> walletCapWon = new("--wallet-cap-won")
    {
        Description = "The node's wallet cap (Wallet__BalanceCapWon), to size funding and warn before wallets fill.",
        DefaultValueFactory = _ => 2_000_000,
    };

    private readonly Option<int> prepareConcurrency = new("--prepare-concurrency")
    {
        Description = "Members prepared at once (registration hashes a password on the node).",
        DefaultValueFactory = _ => 8,
    };

    private readonly Option<int> requestTimeoutSeconds = new("--request-timeout")
    {
        Description = "Seconds one attempt may take before it is retried with the same Idempotency-Key.",
        DefaultValueFactory = _ => 15,
    };

    private readonly Option<int> settleSeconds = new("--settle")
    {
        Description = "Seconds verification waits for recharges still in flight to finish.",
        DefaultValueFactory = _ => 30,
    };

    private LoadTestCommand()
    {
    }

    /// <summary>The command; <paramref name="run"/> gets the validated options. <paramref name="environment"/> reads environment variables.</summary>
    public static RootCommand Create(Func<LoadTestOptions, CancellationToken, Task<int>> run, Func<string, string?> environment) =>
        new LoadTestCommand().Build(run, environment);

    private RootCommand Build(Func<LoadTestOptions, CancellationToken, Task<int>> run, Func<string, string?> environment)
    {
        AddRange(members, 1, 100_000);
        AddRange(merchants, 1, 10_000);
        AddRange(durationSeconds, 1, 24 * 3600);
        AddRange(concurrency, 1, 4096);
        AddRange(rate, 0, 1_000_000);
        AddRange(warmupSeconds, 0, 3600);
        AddRange(prepareConcurrency, 1, 256);
        AddRange(requestTimeoutSeconds, 1, 300);
        AddRange(settleSeconds, 0, 3600);
        AddRange(walletCapWon, Workload.RechargeAmountWon, long.MaxValue);
        scenarioName.AcceptOnlyFromAmong([.. ScenarioNames.Names]);
        AddUrlCheck(nodeUrl);
        AddUrlCheck(payUrl);
        AddUrlCheck(bankUrl);

        var command = new RootCommand("MyPay load test: prepares funded customers and merchants, runs a scenario against the charge and pay endpoints, and verifies the ledger.")
        {
            nodeUrl, payUrl, bankUrl, operatorPassword, scenarioName, members, merchants, durationSeconds, concurrency, rate, warmupSeconds, json, seed,
            walletCapWon, prepareConcurrency, requestTimeoutSeconds, settleSeconds,
        };
        command.Validators.Add(result =>
        {
            if (string.IsNullOrEmpty(result.GetValue(operatorPassword) ?? environment(OperatorPasswordVariable)))
            {
                result.AddError($"The operator password is needed for the ledger check: pass --operator-password or set {OperatorPasswordVariable}.");
            }
        });
        command.SetAction((parsed, cancellationToken) => run(Read(parsed, environment), cancellationToken));
        return command;
    }

    private LoadTestOptions Read(ParseResult parsed, Func<string, string?> environment) => new()
    {
        NodeUrl = BaseUrl(parsed.GetValue(nodeUrl)!),
        PayUrl = BaseUrl(parsed.GetValue(payUrl) ?? parsed.GetValue(nodeUrl)!),
        BankUrl = BaseUrl(parsed.GetValue(bankUrl)!),
        OperatorPassword = parsed.GetValue(operatorPassword) ?? environment(OperatorPasswordVariable) ?? "",
        Scenario = ScenarioNames.Parse(parsed.GetValue(scenarioName)!),
        Members = parsed.GetValue(members),
        Merchants = parsed.GetValue(merchants),
        Duration = TimeSpan.FromSeconds(parsed.GetValue(durationSeconds)),
        Concurrency = parsed.GetValue(concurrency),
        Rate = parsed.GetValue(rate),
        Warmup = TimeSpan.FromSeconds(parsed.GetValue(warmupSeconds)),
        Json = parsed.GetValue(json),
        Seed = parsed.GetValue(seed) ?? Random.Shared.Next(),
        WalletCapWon = parsed.GetValue(walletCapWon),
        PrepareConcurrency = parsed.GetValue(prepareConcurrency),
        RequestTimeout = TimeSpan.FromSeconds(parsed.GetValue(requestTimeoutSeconds)),
        SettleTimeout = TimeSpan.FromSeconds(parsed.GetValue(settleSeconds)),
    };

    /// <summary>The URL with a trailing slash, so relative paths resolve under it (http://host/mypay/ + v1/members).</summary>
    private static Uri BaseUrl(string text) => new(text.EndsWith('/') ? text : text + "/");

    /// <summary>
    /// Parses the option's value as a whole number within bounds. A custom parser rather than a validator: a validator
    /// would be handed a value that failed to parse ("--duration abc") and throw reading it.
    /// </summary>
    private static void AddRange<T>(Option<T> option, T minimum, T maximum)
        where T : struct, IBinaryInteger<T>
    {
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;
            if (!T.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < minimum || value > maximum)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be a whole number from {minimum} to {maximum}; got '{text}'."));
                return minimum;
            }

            return value;
        };
    }

    /// <summary>The option, when given, must be an absolute http or https URL (--pay-url may be left out).</summary>
    private static void AddUrlCheck(Option option) => option.Validators.Add(result =>
    {
        var text = result.GetValueOrDefault<string?>();
        if (text is null && result.Implicit)
        {
            return;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            result.AddError($"{option.Name} must be an absolute http or https URL; got '{text}'.");
        }
    });
}
