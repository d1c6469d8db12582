using MyPay.Silo.Events;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests;

/// <summary>
/// The outbox read in commit order (<see cref="OutboxLog"/>) on a database of its own, whose events are given the
/// transaction ids the test needs: every committed transaction's events, by transaction id as a number.
/// </summary>
public sealed class OutboxLogTests(SiloDatabase database) : IClassFixture<SiloDatabase>
{
    [Fact]
    public async Task ReadCommitted_OrdersTransactionsAsNumbers_NotAsText()
    {
        // Transactions 98 and 99 committed before 100 (ids below any this cluster hands out now): as text "100" sorts
        // first, and a reader taking one event at a time would pass 100 and never read 98 or 99.
        await InsertAsync(("e-100", 100), ("e-99", 99), ("e-98", 98));

        var read = new List<string>();
        var after = new OutboxPosition(0, 0);
        for (var page = 0; page < 4; page++)
        {
            var events = await OutboxLog.ReadCommittedAsync(database.DataSource, after, limit: 1, since: null, CancellationToken.None);
            if (events.Count == 0)
            {
                break;
            }

            read.Add(events[0].Event.EventId);
            after = events[0].Position;
        }

        Assert.Equal(["e-98", "e-99", "e-100"], read);
    }

    private async Task InsertAsync(params (string EventId, long Tx)[] events)
    {
        foreach (var (eventId, tx) in events)
        {
            await using var insert = database.DataSource.CreateCommand(
                "INSERT INTO outbox_event (tx, event_id, stream_key, sequence, type, payload, occurred_at) VALUES (@tx::text::xid8, @id, 'test:1', 1, 'test.happened', '{}', now())");
            insert.Parameters.AddWithValue("tx", tx.ToString(System.Globalization.CultureInfo.InvariantCulture));
            insert.Parameters.AddWithValue("id", eventId);
            await insert.ExecuteNonQueryAsync();
        }
    }
}
