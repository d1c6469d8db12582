using System.Globalization;
using System.Security.Cryptography;
using MyPay.LoadTest.Client;
using MyPay.LoadTest.CommandLine;
using MyPay.LoadTest.Metrics;
using MyPay.LoadTest.Preparation;
using MyPay.LoadTest.Reporting;
using MyPay.LoadTest.Running;
using MyPay.LoadTest.Scenarios;
using MyPay.LoadTest.Verification;

namespace MyPay.LoadTest;

/// <summary>The process's exit codes.</summary>
public static class ExitCodes
{
    public const int Passed = 0;

    /// <summary>The run finished and verification found something wrong, or could not finish.</summary>
    public const int VerificationFailed = 1;

    /// <summary>An argument is invalid, or the operator password was refused. Nothing was sent but the operator sign-in.</summary>
    public const int BadArguments = 2;

    /// <summary>The run could not be carried out: the node or bank unreachable, preparation refused, or aborted.</summary>
    public const int RunFailed = 3;
}

/// <summary>One run, start to finish: sign in as the operator, prepare, run, verify, report.</summary>
public static class LoadTestRun
{
    /// <summary>The operator's sign-in name on the node (its <c>Auth:OperatorUsername</c>, default "operator").</summary>
    public const string OperatorUsername = "operator";

    /// <summary>Connections the client keeps beyond one per worker, for preparation, token renewal and verification.</summary>
    private const int SpareConnections = 64;

    public static async Task<int> RunAsync(LoadTestOptions options, CancellationToken cancellationToken)
    {
        var status = StatusLine.ForConsole();
        using var stop = new CancellationTokenSource();
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs press)
        {
            press.Cancel = true;
            if (!stop.IsCancellationRequested)
            {
                status.Note("stopping: finishing the requests under way, then verifying (Ctrl-C again to abort)");
                stop.Cancel();
            }
            else
            {
                abort.Cancel();
            }
        }

        Console.CancelKeyPress += OnCancelKeyPress;
        try
        {
            return await RunAsync(options, status, stop.Token, abort.Token);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested || stop.IsCancellationRequested)
        {
            status.Note("aborted.");
            return ExitCodes.RunFailed;
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
        }
    }

    private static async Task<int> RunAsync(LoadTestOptions options, StatusLine status, CancellationToken stop, CancellationToken abort)
    {
        // One handler for the whole run: connections are reused, and there are enough that no worker waits for one.
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(options.Concurrency, options.PrepareConcurrency) + SpareConnections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            ConnectTimeout = options.RequestTimeout,
        };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var sender = new HttpSender(http, options.RequestTimeout);
        var node = new MyPayClient(sender, options.NodeUrl, options.PayUrl);
        var bank = new BankClient(sender, options.BankUrl);
        var runId = NewRunId();

        using var operatorTokens = new TokenKeeper(node, OperatorUsername, options.OperatorPassword);
        try
        {
            await operatorTokens.GetAsync(abort);
        }
        catch (SignInRefusedException refused) when (refused.StatusCode == 401)
        {
            status.Note($"The node refused the operator password ({refused.Message}) Pass the node's MYPAY_OPERATOR_PASSWORD with --operator-password.");
            return ExitCodes.BadArguments;
        }
        catch (SignInRefusedException refused)
        {
            status.Note($"Cannot sign in at {options.NodeUrl}: {refused.Message} Is the node running?");
            return ExitCodes.RunFailed;
        }

        var customerCount = options.Scenario.CustomersUsed(options.Members);
        var merchantCount = options.Scenario.MerchantsUsed(options.Merchants);
        var fundWon = Funding.WalletWon(options.Scenario, options.WalletCapWon);
        status.Note(string.Create(
            CultureInfo.InvariantCulture,
            $"run {runId}: {options.Scenario.Name()} on {options.NodeUrl}{(options.PayUrl != options.NodeUrl ? $" (payments through {options.PayUrl})" : "")}, {Text.Count(customerCount, "customer")} (wallets funded with {fundWon:N0} won), {Text.Count(merchantCount, "merchant")}, {Text.Count(options.Concurrency, "worker")}{(options.Rate > 0 ? " at " + options.Rate.ToString("N0", CultureInfo.InvariantCulture) + " req/s" : "")}, {options.Warmup.TotalSeconds:0.#} s warm-up + {options.Duration.TotalSeconds:0.#} s, seed {options.Seed}"));
        if (CapacityNote(options, customerCount, fundWon) is { } capacity)
        {
            status.Note(capacity);
        }

        var log = new RequestLog();
        Cast cast;
        try
        {
            using var preparing = CancellationTokenSource.CreateLinkedTokenSource(stop, abort);
            cast = await new Preparer(node, bank, log, runId, Password(runId)).PrepareAsync(
                customerCount,
                merchantCount,
                fundWon,
                options.PrepareConcurrency,
                (done, total) => status.Progress(string.Create(CultureInfo.InvariantCulture, $"preparing: {done}/{total} members")),
                preparing.Token);
        }
        catch (Exception exception) when (exception is PreparationFailedException or SignInRefusedException)
        {
            status.Note($"Preparation failed: {exception.Message}");
            return ExitCodes.RunFailed;
        }

        status.Note($"prepared {Text.Count(customerCount, "customer")} and {Text.Count(merchantCount, "merchant")}");
        var counters = new RunCounters();
        var timing = await new Runner(node, new Workload(options.Scenario, cast), log, counters, runId, options.Seed).RunAsync(
            options.Concurrency, options.Rate, options.Warmup, options.Duration, progress => status.Progress(Describe(progress)), stop, abort);
        status.Note(string.Create(CultureInfo.InvariantCulture, $"run done: {Text.Count(counters.Requests, "measured request")} in {timing.Measured.TotalSeconds:F1} s"));

        var sent = log.Snapshot();
        VerificationReport verification;
        try
        {
            var verifier = new Verifier(node, operatorTokens, Math.Min(options.Concurrency, 16), status.Note);
            verification = VerificationReport.From(await verifier.VerifyAsync(sent, cast.Customers, options.SettleTimeout, options.Seed, abort));
        }
        catch (Exception exception) when (exception is VerificationIncompleteException or SignInRefusedException)
        {
            verification = new VerificationReport(false, [], exception.Message);
        }

        status.Clear();
        var report = Report(options, runId, customerCount, merchantCount, counters, timing, sent, verification);
        await Console.Out.WriteAsync(options.Json ? ReportWriter.Json(report) + "\n" : ReportWriter.Table(report));
        if (options.Json)
        {
            foreach (var check in verification.Checks)
            {
                status.Note($"{(check.Passed ? "PASS" : "FAIL")}  {check.Name}: {check.Detail}");
            }

            status.Note(verification.Passed ? "result: PASS" : "result: FAIL" + (verification.Incomplete is { } why ? $" ({why})" : ""));
        }

        return verification.Passed ? ExitCodes.Passed : ExitCodes.VerificationFailed;
    }

    private static RunReport Report(
        LoadTestOptions options, string runId, int customers, int merchants, RunCounters counters, RunTiming timing, IReadOnlyList<SentRequest> sent, VerificationReport verification)
    {
        var outcomes = counters.Outcomes();
        var warnings = new List<string>();
        var capExceeded = sent.Count(request => request.Outcome == "422 balance-cap-exceeded");
        if (capExceeded > 0)
        {
            warnings.Add(
                string.Create(CultureInfo.InvariantCulture, $"{capExceeded:N0} recharges were refused with 422 balance-cap-exceeded: wallets reached the node's cap of {options.WalletCapWon:N0} won. ")
                + "Use more --members, or start the node with a higher Wallet__BalanceCapWon and pass it as --wallet-cap-won.");
        }

        if (options.Scenario == Scenario.HotWallet && counters.AutoTopUps > 0)
        {
            warnings.Add(
                string.Create(CultureInfo.InvariantCulture, $"{counters.AutoTopUps:N0} payments needed an automatic top-up: the payer's wallet ran dry, and those payments also moved money at the bank. ")
                + "Start the node with a higher Wallet__BalanceCapWon and pass it as --wallet-cap-won to fund the payer for the whole run.");
        }

        var seconds = timing.Measured.TotalSeconds;
        return new RunReport
        {
            Scenario = options.Scenario.Name(),
            RunId = runId,
            Seed = options.Seed,
            NodeUrl = options.NodeUrl.ToString(),
            Customers = customers,
            Merchants = merchants,
            Concurrency = options.Concurrency,
            RatePerSecond = options.Rate > 0 ? options.Rate : null,
            WarmupSeconds = options.Warmup.TotalSeconds,
            DurationSeconds = Math.Round(seconds, 3),
            Requests = counters.Requests,
            Ok = counters.Ok,
            OkByStatus = outcomes.Where(pair => pair.Key.Length == 3 && pair.Key[0] == '2').ToDictionary(),
            Errors = counters.Errors,
            ErrorsByStatus = outcomes.Where(pair => !(pair.Key.Length == 3 && pair.Key[0] == '2')).ToDictionary(),
            ErrorExamples = counters.ErrorExamples(),
            Retries = counters.Retries,
            AutoTopUps = counters.AutoTopUps,
            ThroughputPerSecond = seconds > 0 ? Math.Round(counters.Requests / seconds, 1) : 0,
            LatencyMs = LatencyReport.From(counters.Latency),
            EndedEarly = timing.EndedEarly,
            StartedAt = timing.StartedAt,
            Timeline = timing.Timeline,
            Warnings = warnings,
            Verification = verification,
        };
    }

    /// <summary>How many recharges the wallets take before the cap, when the scenario recharges; null otherwise.</summary>
    private static string? CapacityNote(LoadTestOptions options, int customers, long fundWon)
    {
        if (options.Scenario is not (Scenario.Recharge or Scenario.Mixed))
        {
            return null;
        }

        var perWallet = Funding.RechargesBeforeCap(options.WalletCapWon, fundWon);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"note: {customers} wallets take {customers * perWallet:N0} recharges of {Workload.RechargeAmountWon:N0} won ({perWallet:N0} each) before the node's cap of {options.WalletCapWon:N0} won; ")
            + "a recharge to a full wallet is a 422 balance-cap-exceeded, counted apart. For longer runs use more --members, or raise the node's Wallet__BalanceCapWon and pass it as --wallet-cap-won.";
    }

    private static string Describe(RunProgress progress) => progress.WarmingUp
        ? string.Create(
            CultureInfo.InvariantCulture,
            $"{progress.Elapsed.TotalSeconds,6:F1} s  warming up  {progress.RequestsPerSecond,8:N0} req/s  {progress.Completed:N0} requests")
        : string.Create(
            CultureInfo.InvariantCulture,
            $"{progress.Elapsed.TotalSeconds,6:F1} s  {progress.RequestsPerSecond,8:N0} req/s  p99 {progress.P99Microseconds / 1000.0,7:F1} ms  errors {progress.Errors:N0}  {progress.Completed:N0} requests");

    /// <summary>12 random digits: part of every email, account number and Idempotency-Key of the run, so runs never collide.</summary>
    private static string NewRunId() => string.Create(
        CultureInfo.InvariantCulture, $"{RandomNumberGenerator.GetInt32(1_000_000):D6}{RandomNumberGenerator.GetInt32(1_000_000):D6}");

    /// <summary>Every member of the run signs in with this; it protects nothing but load-test accounts.</summary>
    private static string Password(string runId) => $"load-test-{runId}";
}
