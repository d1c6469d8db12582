namespace MyPay.LoadTest.Scenarios;

/// <summary>What the workers send during the run.</summary>
public enum Scenario
{
    /// <summary>Recharges of 10,000 won (the charge endpoint), spread uniformly over the customers.</summary>
    Recharge,

    /// <summary>Small payments from uniformly chosen customers to uniformly chosen merchants.</summary>
    Pay,

    /// <summary>Every payment from one customer, to uniformly chosen merchants: one wallet grain under load.</summary>
    HotWallet,

    /// <summary>Payments from uniformly chosen customers, all to one merchant.</summary>
    HotMerchant,

    /// <summary>Recharges and payments from uniformly chosen customers, one recharge in <see cref="Workload.MixedRechargeEvery"/> requests.</summary>
    Mixed,
}

public static class ScenarioNames
{
    public static readonly IReadOnlyList<string> Names = ["recharge", "pay", "hot-wallet", "hot-merchant", "mixed"];

    public static Scenario Parse(string name) => name switch
    {
        "recharge" => Scenario.Recharge,
        "pay" => Scenario.Pay,
        "hot-wallet" => Scenario.HotWallet,
        "hot-merchant" => Scenario.HotMerchant,
        "mixed" => Scenario.Mixed,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"Unknown scenario; expected one of {string.Join(", ", Names)}."),
    };

    public static string Name(this Scenario scenario) => scenario switch
    {
        Scenario.Recharge => "recharge",
        Scenario.Pay => "pay",
        Scenario.HotWallet => "hot-wallet",
        Scenario.HotMerchant => "hot-merchant",
        Scenario.Mixed => "mixed",
        _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "Unknown scenario."),
    };

    /// <summary>How many customers the scenario sends from: hot-wallet needs one, the others all that were asked for.</summary>
    public static int CustomersUsed(this Scenario scenario, int customersAsked) => scenario == Scenario.HotWallet ? 1 : customersAsked;

    /// <summary>How many merchants the scenario pays: hot-merchant needs one, recharge none, the others all that were asked for.</summary>
    public static int MerchantsUsed(this Scenario scenario, int merchantsAsked) => scenario switch
    {
        Scenario.Recharge => 0,
        Scenario.HotMerchant => 1,
        _ => merchantsAsked,
    };
}
