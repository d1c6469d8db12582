using MyPay.LoadTest.Scenarios;

namespace MyPay.LoadTest.CommandLine;

/// <summary>Everything one run is told, validated by <see cref="LoadTestCommand"/> before anything is sent.</summary>
public sealed record LoadTestOptions
{
    /// <summary>The MyPay node the load goes to. Default http://127.0.0.1:5080, where <c>./mypay run</c> starts it.</summary>
    public required Uri NodeUrl { get; init; }

    /// <summary>
    /// Where payments and wallet balances are sent: the node, unless a peer takes payments in its place (bench/Peer, the
    /// same pay operation in one PostgreSQL transaction per request, on the node's database). Default: the node.
    /// </summary>
    public required Uri PayUrl { get; init; }

    /// <summary>The bank simulator the customers' accounts are opened at. Default http://127.0.0.1:5090.</summary>
    public required Uri BankUrl { get; init; }

    /// <summary>The operator's password, for the ledger check at the end. Default: <c>MYPAY_OPERATOR_PASSWORD</c>.</summary>
    public required string OperatorPassword { get; init; }

    public required Scenario Scenario { get; init; }

    /// <summary>Customers prepared (registered, bank account opened and linked, wallet funded). hot-wallet uses one.</summary>
    public required int Members { get; init; }

    /// <summary>Merchants registered. recharge uses none, hot-merchant one.</summary>
    public required int Merchants { get; init; }

    /// <summary>How long the measured part of the run lasts.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Workers, each with one request in flight at a time.</summary>
    public required int Concurrency { get; init; }

    /// <summary>
    /// Requests per second, sent open-loop (each due at its time, latency counted from then), or 0 for closed loop:
    /// each worker sends its next request as soon as the last is answered.
    /// </summary>
    public required int Rate { get; init; }

    /// <summary>Load sent before measuring starts (its requests are verified, not measured).</summary>
    public required TimeSpan Warmup { get; init; }

    /// <summary>One JSON object on stdout instead of the table.</summary>
    public required bool Json { get; init; }

    /// <summary>Seeds the workers' choices of payer, merchant and amount, so a run's request mix can be repeated.</summary>
    public required int Seed { get; init; }

    /// <summary>The node's wallet cap (<c>Wallet__BalanceCapWon</c>), used to size funding and warn before wallets fill. Default 2,000,000 won.</summary>
    public required long WalletCapWon { get; init; }

    /// <summary>Members prepared at once. Registration hashes a password on the node (~0.1-0.2 s of CPU each).</summary>
    public required int PrepareConcurrency { get; init; }

    /// <summary>How long one attempt may take before it is abandoned and retried with the same key.</summary>
    public required TimeSpan RequestTimeout { get; init; }

    /// <summary>How long verification waits for recharges still in flight (answered 202, or abandoned) to finish.</summary>
    public required TimeSpan SettleTimeout { get; init; }
}
