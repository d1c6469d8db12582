using MyPay.Grains.Events;
using MyPay.Grains.Reports;
using MyPay.Silo.Events;

namespace MyPay.Grains.Tests;

/// <summary>The live view's minute (<see cref="LiveWindow"/>): each event counts once, in its own second, and only while the minute holds it.</summary>
public sealed class LiveWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 0, 30, TimeSpan.Zero);

    [Fact]
    public void AnEventDeliveredTwice_CountsOnce()
    {
        var window = new LiveWindow();
        Assert.True(window.Count(Payment("p1", 5_000, Now.AddSeconds(-2)), Now));
        Assert.False(window.Count(Payment("p1", 5_000, Now.AddSeconds(-2)), Now));
        Assert.True(window.Count(Payment("p2", 7_000, Now.AddSeconds(-2)), Now));

        var second = Assert.Single(window.Seconds(Now));
        Assert.Equal((Now.AddSeconds(-2), 2, 12_000L), (second.At, second.Payments, second.PaymentVolumeWon));
    }

    [Fact]
    public void EventsOlderThanTheMinute_AreNotCounted_AndCountedOnesAgeOut()
    {
        var window = new LiveWindow();
        Assert.False(window.Count(Payment("old", 1_000, Now.AddSeconds(-LiveWindow.Length)), Now));
        Assert.True(window.Count(Payment("recent", 1_000, Now.AddSeconds(-10)), Now));
        Assert.Single(window.Seconds(Now));
        Assert.Empty(window.Seconds(Now.AddSeconds(LiveWindow.Length)));
    }

    [Fact]
    public void RefundsAndRecharges_CountApart_AndOtherEventsNotAtAll()
    {
        var window = new LiveWindow();
        Assert.True(window.Count(Event("r1", DomainEvents.PaymentRefunded, 300, Now), Now));
        Assert.True(window.Count(Event("c1", DomainEvents.RechargeCompleted, 10_000, Now), Now));
        Assert.False(window.Count(Event("s1", DomainEvents.RemittanceSent, 2_000, Now), Now));

        var second = Assert.Single(window.Seconds(Now));
        Assert.Equal((0, 1, 300L, 1, 10_000L), (second.Payments, second.Refunds, second.RefundVolumeWon, second.Recharges, second.RechargeVolumeWon));
    }

    private static OutboxEvent Payment(string id, long amountWon, DateTimeOffset at) => Event(id, DomainEvents.PaymentCompleted, amountWon, at);

    private static OutboxEvent Event(string id, string type, long amountWon, DateTimeOffset at) =>
        new($"{type}:{id}", "wallet:m1", 1, type, $$"""{"amountWon":{{amountWon}}}""", at);
}
