using System.Globalization;
using System.Net;

namespace MyPay.Api.Tests;

/// <summary>
/// The node's Prometheus endpoint as an operator's monitoring scrapes it: Orleans', ASP.NET Core's, Npgsql's and
/// MyPay's own series, and MyPay's money counters moving with the money. The meters are the process's, shared by
/// every node a test process runs, so the counters are compared as at least what this test moved. The class runs alone:
/// ASP.NET Core's meters are each node's own, and OpenTelemetry merges same-named instruments, dropping them all when
/// one node of the process stops (a production node is alone in its process).
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class OperatorMetricsTests(BankFixture fixture) : NodeTests(fixture), IClassFixture<BankFixture>
{
    [Fact]
    public async Task Metrics_CarryEachLibrarysSeries_AndMoneyCountersMoveAfterAPayment()
    {
        using var operatorClient = await App.OperatorAsync();
        var merchant = await App.RegisterAsync("merchant", "지표 상점");
        var payer = await Fixture.MemberWithWalletAsync(App, 100_000);
        var before = Parse(await operatorClient.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        var paymentsBefore = Sum(before, "mypay_money_operations_total", "kind=\"payment\"");
        var volumeBefore = Sum(before, "mypay_money_moved_total", "kind=\"payment\"");

        using (var paid = await payer.Client.PayAsync(merchant.Id, 12_345, "metrics-pay"))
        {
            Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        }

        // The money counters move once the payment's event reaches the live counters (a stream delivery away).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var text = await operatorClient.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        while (Sum(Parse(text), "mypay_money_moved_total", "kind=\"payment\"") < volumeBefore + 12_345 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            text = await operatorClient.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        }

        var after = Parse(text);
        Assert.True(Sum(after, "mypay_money_moved_total", "kind=\"payment\"") >= volumeBefore + 12_345, text);
        Assert.True(Sum(after, "mypay_money_operations_total", "kind=\"payment\"") >= paymentsBefore + 1, text);
        Assert.True(Sum(after, "mypay_money_operations_total", "kind=\"recharge\"") >= 1, text);
        Assert.True(Sum(after, "mypay_bank_commands_total", "purpose=\"recharge\"", "outcome=\"succeeded\"") >= 1, text);
        Assert.True(Sum(after, "mypay_silo_commit_batch_size_count") > Sum(before, "mypay_silo_commit_batch_size_count"), text);
        Assert.True(Sum(after, "http_server_request_duration_seconds_count", "http_route=\"/v1/payments\"", "http_response_status_code=\"201\"") >= 1, text);
        // Orleans' activations and reminders, and Npgsql's commands (Kestrel's series appear on a node, not on the tests' in-memory server).
        Assert.True(Sum(after, "orleans_catalog_activations") >= 1, Names(after));
        Assert.Contains(after, sample => sample.Name == "orleans_reminders_active");
        Assert.True(Sum(after, "db_client_operation_duration_seconds_count") > Sum(before, "db_client_operation_duration_seconds_count"), Names(after));
    }

    /// <summary>The samples of Prometheus' text format: a name, its labels as written, and a value.</summary>
    private static List<(string Name, string Labels, double Value)> Parse(string text) =>
        [.. text.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line =>
            {
                var nameEnd = line.IndexOfAny(['{', ' ']);
                var labelsEnd = line[nameEnd] == '{' ? LabelsEnd(line, nameEnd) : nameEnd;
                var value = line[labelsEnd..].Trim().Split(' ')[0];
                return (line[..nameEnd], line[nameEnd..labelsEnd], double.Parse(value, CultureInfo.InvariantCulture));
            })];

    /// <summary>Just past the brace that closes the labels opened at <paramref name="open"/>: a quoted value may hold braces (a route template).</summary>
    private static int LabelsEnd(string line, int open)
    {
        var quoted = false;
        for (var i = open + 1; i < line.Length; i++)
        {
            switch (line[i])
            {
                case '\\' when quoted:
                    i++;
                    break;
                case '"':
                    quoted = !quoted;
                    break;
                case '}' when !quoted:
                    return i + 1;
            }
        }

        throw new FormatException($"Unclosed labels: {line}");
    }

    private static string Names(List<(string Name, string Labels, double Value)> samples) => string.Join(", ", samples.Select(sample => sample.Name).Distinct());

    /// <summary>The sum of the samples named <paramref name="name"/> that carry every one of <paramref name="labels"/>.</summary>
    private static double Sum(List<(string Name, string Labels, double Value)> samples, string name, params string[] labels) =>
        samples.Where(sample => sample.Name == name && labels.All(label => sample.Labels.Contains(label, StringComparison.Ordinal))).Sum(sample => sample.Value);
}

/// <summary>Test classes that run alone, after the others: no other node starts or stops in the process meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}
