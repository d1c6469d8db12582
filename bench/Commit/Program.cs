using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using MyPay.Grains;
using MyPay.Grains.Ledger;
using MyPay.Grains.Payments;
using MyPay.Silo.Diagnostics;
using MyPay.Silo.Events;
using MyPay.Silo.Grains;
using MyPay.Silo.Migrations;
using MyPay.Silo.Storage;
using MyPay.Silo.Storage.Postgres;
using Npgsql;

// MyPay's group-committing store on its own: WRITERS grains, each writing its state again as soon as its last write
// committed, every write carrying an operation key and the records of SHAPE: "recharge", a journal entry of two postings
// (corporate cash to the grain's wallet); "pay", what a payment's write carries: a journal entry of three postings (the
// grain's wallet to a merchant's receivable and the fee revenue, which the ledger's triggers check and turn into a
// settlement's open item), the payment's row and its event. Measured closed loop with records in ROUND_TRIPS ("two",
// "one" or both: PostgresStorageOptions.RecordsInOneRoundTrip), alternating, ROUNDS times each, SECONDS each: the writes
// a second, the writes per transaction, a write's latency from queued to committed, and the CPU PostgreSQL used per write.
//
// Usage: MyPay.Bench.Commit DATABASE_URL [WRITERS=64] [SECONDS=10] [ROUNDS=2] [SHAPE=recharge] [ROUND_TRIPS="two one"]
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: MyPay.Bench.Commit DATABASE_URL [WRITERS] [SECONDS] [ROUNDS] [recharge|pay] [\"two one\"]");
    return 2;
}

var writers = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
var seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 2;
// A paying grain's first write recharges its wallet with enough for any run's payments.
const long RechargeWon = 1_000_000_000_000;
var paying = (args.Length > 4 ? args[4] : "recharge") switch
{
    "recharge" => false,
    "pay" => true,
    var shape => throw new ArgumentException($"SHAPE is recharge or pay, not {shape}."),
};
var roundTrips = (args.Length > 5 ? args[5] : "two one").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(mode => mode switch
{
    "two" => false,
    "one" => true,
    _ => throw new ArgumentException($"ROUND_TRIPS are two or one, not {mode}."),
}).ToArray();
// The node's connections: prepared statements, and a pool of 8 (PostgresStorageOptions.ConnectionsMax).
await using var dataSource = new NpgsqlDataSourceBuilder(PostgresConnection.ForStore(args[0], new PostgresStorageOptions().ConnectionsMax)).Build();
await new MigrationRunner(dataSource, [MigrationSource.Silo, GrainsRegistration.LedgerMigrations, GrainsRegistration.PaymentMigrations, GrainsRegistration.SettlementMigrations])
    .ApplyAsync(CancellationToken.None);

// The store's transactions, counted from its own meter: one batch-size measurement per committed transaction.
long transactionsCommitted = 0;
using var listener = new MeterListener
{
    InstrumentPublished = (instrument, meterListener) =>
    {
        // By name: the callback runs while SiloMetrics' static fields are still being created, so they cannot be compared to.
        if (instrument.Meter.Name == SiloMetrics.MeterName && instrument.Name == "mypay.silo.commit.batch_size")
        {
            meterListener.EnableMeasurementEvents(instrument);
        }
    },
};
listener.SetMeasurementEventCallback<int>((_, _, _, _) => Interlocked.Increment(ref transactionsCommitted));
listener.Start();

var rows = new List<string>();
for (var round = 1; round <= rounds; round++)
{
    foreach (var oneRoundTrip in roundTrips)
    {
        var measured = await MeasureAsync(oneRoundTrip);
        rows.Add(string.Create(
            CultureInfo.InvariantCulture,
            $"| {(oneRoundTrip ? "one" : "two")} | {round} | {measured.WritesPerSecond:N0} | {measured.WritesPerTransaction:N1} | {measured.P50:N2} | {measured.P99:N2} | {measured.PostgresMsPerWrite:N3} |"));
        Console.Error.WriteLine(rows[^1]);
    }
}

Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"{writers} grains writing closed loop, {seconds} s a measurement, each write a state, an operation key and {(paying ? "a payment's records: a journal entry of three postings, the payment's row and its event" : "a recharge's journal entry of two postings")}."));
Console.WriteLine();
Console.WriteLine("| round trips per transaction with records | round | writes/s | writes per transaction | write p50 ms | write p99 ms | PostgreSQL CPU ms per write |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
rows.ForEach(Console.WriteLine);
return 0;

async Task<Measured> MeasureAsync(bool oneRoundTrip)
{
    var options = new PostgresStorageOptions { RecordsInOneRoundTrip = oneRoundTrip };
    await using var storage = new PostgresGrainStorage(dataSource, options, [new JournalWriter(), new PaymentWriter(), new OutboxWriter()]);
    var run = Guid.NewGuid().ToString("N")[..8];
    var payload = Encoding.UTF8.GetBytes(new string('x', 300));
    var latencies = new List<double>[writers];
    var transactionsBefore = Interlocked.Read(ref transactionsCommitted);
    var cpuBefore = PostgresCpu();
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    var started = Stopwatch.GetTimestamp();
    await Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
    {
        var grain = new GrainId("bench-commit", $"{run}-{writer}");
        var mine = latencies[writer] = [];
        for (long version = 0; !stop.IsCancellationRequested; version++)
        {
            var operation = $"{run}-{writer}-{version}";
            var write = new StateWrite(grain, version, payload, [new OperationRecord(operation, "hash", [1])])
            {
                // A paying grain's first write funds its wallet.
                Records = paying && version > 0 ? Payment(grain.Key, writer, operation, version) : Recharge(grain.Key, operation),
            };
            var queued = Stopwatch.GetTimestamp();
            var outcome = await storage.WriteAsync(write, CancellationToken.None);
            if (outcome.Status != WriteStatus.Committed)
            {
                throw new InvalidOperationException($"A write of {grain} was {outcome.Status}.");
            }

            mine.Add(Stopwatch.GetElapsedTime(queued).TotalMilliseconds);
        }
    })));
    var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
    var cpu = PostgresCpu() - cpuBefore;
    var transactions = Interlocked.Read(ref transactionsCommitted) - transactionsBefore;
    var all = latencies.SelectMany(list => list).Order().ToArray();
    return new Measured(
        all.Length / elapsed,
        transactions > 0 ? all.Length / (double)transactions : 0,
        all[all.Length / 2],
        all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))],
        cpu.TotalMilliseconds / all.Length);
}

// A recharge's entry: corporate cash to the wallet.
static IReadOnlyList<object> Recharge(string memberId, string operation) =>
[
    new JournalEntry(
        $"bench:{operation}", "recharge", memberId, operation, null, DateTimeOffset.UtcNow,
        [new Posting(Accounts.CorporateCash, RechargeWon), new Posting(Accounts.Wallet(memberId), -RechargeWon)]),
];

// A payment's records, as WalletGrain.Pay makes them: 1,000 won to one of 20 merchants at 3% commission.
static IReadOnlyList<object> Payment(string memberId, int writer, string operation, long sequence)
{
    var at = DateTimeOffset.UtcNow;
    var payment = new PaymentRecord($"pay-{operation}", memberId, $"merchant-{writer % 20}", 1_000, 300, 30, null, operation, at);
    return
    [
        new JournalEntry(
            $"payment:{payment.PaymentId}", "payment", memberId, operation, payment.PaymentId, at,
            [new Posting(Accounts.Wallet(memberId), 1_000), new Posting(Accounts.Receivable(payment.MerchantId), -970), new Posting(Accounts.FeeRevenue, -30)]),
        payment,
        new OutboxEvent(
            $"event-{operation}", $"wallet:{memberId}", sequence, "payment.completed",
            $$"""{"paymentId":"{{payment.PaymentId}}","payerId":"{{memberId}}","merchantId":"{{payment.MerchantId}}","amountWon":1000,"commissionWon":30,"balanceWon":{{RechargeWon - (sequence * 1_000)}}}""",
            at),
    ];
}

// The CPU every PostgreSQL process used so far, from /proc: its own and its reaped children's (a backend's time moves to
// the postmaster's children's once it exits), in clock ticks of 10 ms.
static TimeSpan PostgresCpu()
{
    var ticks = 0L;
    foreach (var directory in Directory.EnumerateDirectories("/proc"))
    {
        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine(directory, "stat"));
        }
        catch (IOException)
        {
            continue; // not a process, or one that has just exited
        }
        catch (UnauthorizedAccessException)
        {
            continue;
        }

        // pid (comm) state ppid ...: utime, stime, cutime and cstime are fields 14 to 17, the 12th to 15th after comm.
        var commEnd = stat.LastIndexOf(')');
        if (commEnd < 0 || !stat.AsSpan(0, commEnd).EndsWith("(postgres", StringComparison.Ordinal))
        {
            continue;
        }

        var fields = stat[(commEnd + 2)..].Split(' ');
        ticks += fields[11..15].Sum(field => long.Parse(field, CultureInfo.InvariantCulture));
    }

    return TimeSpan.FromMilliseconds(ticks * 10);
}

internal sealed record Measured(double WritesPerSecond, double WritesPerTransaction, double P50, double P99, double PostgresMsPerWrite);
