using MyPay.LoadTest.CommandLine;
using MyPay.LoadTest.Scenarios;

namespace MyPay.LoadTest.Tests;

public class LoadTestCommandTests
{
    [Fact]
    public async Task Parse_NoArguments_DefaultsWithThePasswordFromTheEnvironment()
    {
        var options = await RunAsync([], password: "secret");

        Assert.NotNull(options);
        Assert.Equal(new Uri("http://127.0.0.1:5080/"), options.NodeUrl);
        Assert.Equal(new Uri("http://127.0.0.1:5090/"), options.BankUrl);
        Assert.Equal(options.NodeUrl, options.PayUrl);
        Assert.Equal("secret", options.OperatorPassword);
        Assert.Equal(Scenario.Pay, options.Scenario);
        Assert.Equal((50, 10, 32), (options.Members, options.Merchants, options.Concurrency));
        Assert.Equal(TimeSpan.FromSeconds(10), options.Duration);
        Assert.Equal(2_000_000, options.WalletCapWon);
        Assert.Equal(0, options.Rate);
    }

    [Fact]
    public async Task Parse_EveryOption_IsRead()
    {
        var options = await RunAsync(
            ["--node-url", "http://10.0.0.1:80/mypay", "--pay-url", "http://10.0.0.2:81", "--scenario", "hot-merchant", "--members", "7", "--merchants", "3", "--duration", "30",
             "--concurrency", "64", "--warmup", "0", "--json", "--seed", "9", "--operator-password", "given", "--wallet-cap-won", "1000000000", "--rate", "2500"],
            password: "ignored");

        Assert.NotNull(options);
        Assert.Equal(new Uri("http://10.0.0.1:80/mypay/"), options.NodeUrl);
        Assert.Equal(new Uri("http://10.0.0.2:81/"), options.PayUrl);
        Assert.Equal(Scenario.HotMerchant, options.Scenario);
        Assert.Equal((7, 3, 64, 9), (options.Members, options.Merchants, options.Concurrency, options.Seed));
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.Zero), (options.Duration, options.Warmup));
        Assert.True(options.Json);
        Assert.Equal("given", options.OperatorPassword);
        Assert.Equal(1_000_000_000, options.WalletCapWon);
        Assert.Equal(2500, options.Rate);
    }

    [Theory]
    [InlineData("--members", "0")]
    [InlineData("--concurrency", "100000")]
    [InlineData("--duration", "abc")]
    [InlineData("--duration", "1.5")]
    [InlineData("--wallet-cap-won", "9999")]
    [InlineData("--rate", "-1")]
    [InlineData("--scenario", "everything")]
    [InlineData("--node-url", "ftp://node")]
    [InlineData("--node-url", "/relative")]
    [InlineData("--pay-url", "peer:6070")]
    public void Parse_BadValue_IsAnError(string option, string value)
    {
        var parsed = LoadTestCommand.Create((_, _) => Task.FromResult(0), _ => "secret").Parse([option, value]);

        Assert.NotEmpty(parsed.Errors);
    }

    [Fact]
    public void Parse_NoOperatorPasswordAnywhere_IsAnError()
    {
        var parsed = LoadTestCommand.Create((_, _) => Task.FromResult(0), _ => null).Parse([]);

        Assert.Contains(parsed.Errors, error => error.Message.Contains(LoadTestCommand.OperatorPasswordVariable, StringComparison.Ordinal));
    }

    private static async Task<LoadTestOptions?> RunAsync(string[] args, string? password)
    {
        LoadTestOptions? seen = null;
        var parsed = LoadTestCommand.Create(
            (options, _) =>
            {
                seen = options;
                return Task.FromResult(0);
            },
            name => name == LoadTestCommand.OperatorPasswordVariable ? password : null).Parse(args);
        Assert.Empty(parsed.Errors);
        await parsed.InvokeAsync();
        return seen;
    }
}
