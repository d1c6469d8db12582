using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MyPay.Silo.Events;
using MyPay.Silo.Hosting;
using MyPay.Silo.Tests.Support;
using MyPay.Testing;
using Orleans;
using Orleans.Runtime;
using Orleans.Streaming.EventHubs;
using Orleans.Streams;

namespace MyPay.Silo.Tests;

/// <summary>
/// <c>Events:Provider=eventhubs</c> puts Orleans' Event Hubs provider where MyPay's outbox provider was (the stream
/// provider <c>outbox</c>), configured from <c>Events:EventHubs</c>, and refuses to start without the settings it needs.
/// No test here reaches Azure: hosts are built, or fail on validation before any provider starts.
/// </summary>
public sealed class EventHubsStreamsTests : IAsyncLifetime
{
    /// <summary>Well formed, for a namespace that does not exist; the key is not a key.</summary>
    private const string FakeConnectionString =
        "Endpoint=sb://mypay-test.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=bm90LWEtcmVhbC1rZXk=";

    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public void Build_WithEventHubsSelected_TheOutboxStreamProviderIsOrleansEventHubsOne_ConfiguredFromTheSettings()
    {
        using var host = BuildHost(new()
        {
            [EventHubsStreams.ProviderSetting] = "eventhubs",
            [EventHubsStreamOptions.ConnectionStringSetting] = FakeConnectionString,
            [EventHubsStreamOptions.NameSetting] = "mypay-events",
        });

        Assert.IsType<EventHubAdapterFactory>(host.Services.GetRequiredKeyedService<IQueueAdapterFactory>(OutboxQueueAdapterFactory.ProviderName));
        Assert.IsType<GrainStreamQueueCheckpointerFactory>(host.Services.GetRequiredKeyedService<IStreamQueueCheckpointerFactory>(OutboxQueueAdapterFactory.ProviderName));
        var hub = host.Services.GetRequiredService<IOptions<EventHubsStreamOptions>>().Value;
        Assert.Equal((FakeConnectionString, "mypay-events", "$Default"), (hub.ConnectionString, hub.Name, hub.ConsumerGroup));
        Assert.Single(host.Services.GetServices<ILifecycleParticipant<ISiloLifecycle>>().OfType<OutboxRelay>());
    }

    [Fact]
    public void Build_WithNoProviderSetting_TheOutboxStreamProviderIsMyPaysOutboxAdapter_AndNoRelayRuns()
    {
        using var host = BuildHost([]);

        Assert.IsType<OutboxQueueAdapterFactory>(host.Services.GetRequiredKeyedService<IQueueAdapterFactory>(OutboxQueueAdapterFactory.ProviderName));
        Assert.Empty(host.Services.GetServices<ILifecycleParticipant<ISiloLifecycle>>().OfType<OutboxRelay>());
    }

    [Fact]
    public void Build_WithAnUnknownProvider_FailsNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => BuildHost(new() { [EventHubsStreams.ProviderSetting] = "kafka" }).Dispose());

        Assert.Contains($"{EventHubsStreams.ProviderSetting} must be 'outbox' (the default) or 'eventhubs'; got 'kafka'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(EventHubsStreamOptions.ConnectionStringSetting, null)]
    [InlineData(EventHubsStreamOptions.ConnectionStringSetting, " ")]
    [InlineData(EventHubsStreamOptions.ConnectionStringSetting, "SharedAccessKey=secret-key-value")]
    [InlineData(EventHubsStreamOptions.NameSetting, null)]
    [InlineData(EventHubsStreamOptions.ConsumerGroupSetting, "")]
    public async Task Start_WithEventHubsAndABadSetting_FailsNamingTheSetting(string setting, string? value)
    {
        var settings = new Dictionary<string, string?>
        {
            [EventHubsStreams.ProviderSetting] = "eventhubs",
            [EventHubsStreamOptions.ConnectionStringSetting] = FakeConnectionString,
            [EventHubsStreamOptions.NameSetting] = "mypay-events",
        };
        settings[setting] = value;
        using var host = BuildHost(settings);

        var validation = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(TestSilo.Timeout));

        Assert.Equal(typeof(EventHubsStreamOptions), validation.OptionsType);
        Assert.Contains(setting, validation.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-key-value", validation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithEventHubsAndNoConnectionString_NamesTheEnvironmentVariableToo()
    {
        using var host = BuildHost(new() { [EventHubsStreams.ProviderSetting] = "eventhubs", [EventHubsStreamOptions.NameSetting] = "mypay-events" });

        var validation = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(TestSilo.Timeout));

        Assert.Equal(
            ["Events:EventHubs:ConnectionString (environment Events__EventHubs__ConnectionString) must be set when Events:Provider is eventhubs."],
            validation.Failures);
    }

    /// <summary>A host whose silo is set up as a node's (<see cref="MyPaySiloBuilderExtensions.UseMyPaySilo"/>), on this class's database and free ports.</summary>
    private IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(FreePorts.SiloSettings().Select(setting => KeyValuePair.Create(setting.Key, (string?)setting.Value)).Concat(settings));
        builder.UseOrleans(silo => silo.UseMyPaySilo(database.ConnectionString));
        return builder.Build();
    }
}
