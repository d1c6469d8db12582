using MyPay.LoadTest.Client;
using MyPay.LoadTest.Preparation;
using MyPay.LoadTest.Running;
using MyPay.LoadTest.Scenarios;

namespace MyPay.LoadTest.Tests;

public class WorkloadTests
{
    [Fact]
    public void Next_HotWallet_AlwaysPaysFromTheFirstCustomer_InBounds()
    {
        var cast = Cast(customers: 3, merchants: 4);
        var workload = new Workload(Scenario.HotWallet, cast);
        var random = new Random(1);

        var operations = Enumerable.Range(0, 1_000).Select(_ => workload.Next(random)!.Value).ToList();

        Assert.All(operations, operation =>
        {
            Assert.Equal(RequestKind.Payment, operation.Kind);
            Assert.Same(cast.Customers[0], operation.Customer);
            Assert.InRange(operation.AmountWon, Workload.PaymentAmountWonMin, Workload.PaymentAmountWonMax);
        });
        Assert.Equal(4, operations.Select(operation => operation.MerchantId).Distinct().Count());
    }

    [Fact]
    public void Next_Recharge_SkipsFullWallets_AndEndsWhenAllAreFull()
    {
        var cast = Cast(customers: 3, merchants: 0);
        var workload = new Workload(Scenario.Recharge, cast);
        var random = new Random(2);
        cast.Customers[0].MarkFull();
        cast.Customers[1].MarkFull();

        Assert.All(Enumerable.Range(0, 100), _ => Assert.Same(cast.Customers[2], workload.Next(random)!.Value.Customer));
        cast.Customers[2].MarkFull();
        Assert.Null(workload.Next(random));
    }

    [Fact]
    public void Next_Mixed_IsAboutOneRechargeInFive()
    {
        var workload = new Workload(Scenario.Mixed, Cast(customers: 5, merchants: 2));
        var random = new Random(3);

        var recharges = Enumerable.Range(0, 10_000).Count(_ => workload.Next(random)!.Value.Kind == RequestKind.Recharge);

        Assert.InRange(recharges, 1_800, 2_200);
    }

    [Fact]
    public void Next_SameSeed_SameChoices()
    {
        var cast = Cast(customers: 10, merchants: 10);
        var first = new Workload(Scenario.Pay, cast);
        var second = new Workload(Scenario.Pay, cast);
        Random one = new(42), two = new(42);

        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(first.Next(one), second.Next(two)));
    }

    private static Cast Cast(int customers, int merchants)
    {
        var client = new MyPayClient(new HttpSender(new HttpClient(), TimeSpan.FromSeconds(1)), new Uri("http://node.test/"));
        return new Cast(
            [.. Enumerable.Range(0, customers).Select(index => new Customer(index, $"c{index}", new TokenKeeper(client, $"c{index}@test", "password")))],
            [.. Enumerable.Range(0, merchants).Select(index => $"m{index}")]);
    }
}
