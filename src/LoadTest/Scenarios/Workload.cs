using MyPay.LoadTest.Preparation;
using MyPay.LoadTest.Running;

namespace MyPay.LoadTest.Scenarios;

/// <summary>One request a worker is about to send.</summary>
public readonly record struct Operation(RequestKind Kind, Customer Customer, string? MerchantId, long AmountWon);

/// <summary>
/// Chooses each worker's next request for the scenario. Thread-safe: the only shared state is the customers' "full"
/// flags; each worker passes its own <see cref="Random"/>, seeded from the run's seed.
/// </summary>
public sealed class Workload
{
    /// <summary>Every recharge of the run: one unit, so a wallet under the default 2,000,000-won cap takes 200 of them.</summary>
    public const long RechargeAmountWon = 10_000;

    /// <summary>Payments are 100 to 1,000 won: small, so funded wallets last the run.</summary>
    public const long PaymentAmountWonMin = 100;

    public const long PaymentAmountWonMax = 1_000;

    /// <summary>In mixed, one request in this many is a recharge. One in five keeps wallets growing slowly: 10,000 in, about 2,200 out.</summary>
    public const int MixedRechargeEvery = 5;

    /// <summary>Random picks tried before scanning for a customer whose wallet is not full.</summary>
    private const int PicksMax = 8;

    private readonly Scenario scenario;
    private readonly IReadOnlyList<Customer> customers;
    private readonly IReadOnlyList<string> merchantIds;

    public Workload(Scenario scenario, Cast cast)
    {
        if (cast.Customers.Count == 0 || (scenario != Scenario.Recharge && cast.MerchantIds.Count == 0))
        {
            throw new ArgumentException($"Scenario {scenario.Name()} needs customers{(scenario == Scenario.Recharge ? "" : " and merchants")}.", nameof(cast));
        }

        this.scenario = scenario;
        customers = cast.Customers;
        merchantIds = cast.MerchantIds;
    }

    /// <summary>The next request; null when every wallet has reached the cap and a recharge was due, which ends the run.</summary>
    public Operation? Next(Random random) => scenario switch
    {
        Scenario.Recharge => NextRecharge(random),
        Scenario.Pay => Payment(random, Pick(random, customers), Pick(random, merchantIds)),
        Scenario.HotWallet => Payment(random, customers[0], Pick(random, merchantIds)),
        Scenario.HotMerchant => Payment(random, Pick(random, customers), merchantIds[0]),
        Scenario.Mixed => random.Next(MixedRechargeEvery) == 0
            ? NextRecharge(random)
            : Payment(random, Pick(random, customers), Pick(random, merchantIds)),
        _ => throw new InvalidOperationException($"Unknown scenario {scenario}."),
    };

    private static Operation Payment(Random random, Customer payer, string merchantId) =>
        new(RequestKind.Payment, payer, merchantId, random.NextInt64(PaymentAmountWonMin, PaymentAmountWonMax + 1));

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private Operation? NextRecharge(Random random)
    {
        for (var pick = 0; pick < PicksMax; pick++)
        {
            var customer = Pick(random, customers);
            if (!customer.IsFull)
            {
                return new Operation(RequestKind.Recharge, customer, null, RechargeAmountWon);
            }
        }

        var start = random.Next(customers.Count);
        for (var offset = 0; offset < customers.Count; offset++)
        {
            var customer = customers[(start + offset) % customers.Count];
            if (!customer.IsFull)
            {
                return new Operation(RequestKind.Recharge, customer, null, RechargeAmountWon);
            }
        }

        return null;
    }
}
