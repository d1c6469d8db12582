using Azure.Messaging.EventHubs;
using Microsoft.Extensions.Options;

namespace MyPay.Silo.Events;

/// <summary>
/// The Azure Event Hub that carries MyPay's events when <c>Events:Provider</c> is <c>eventhubs</c>: settings under
/// <c>Events:EventHubs</c> (environment <c>Events__EventHubs__ConnectionString</c> and so on), validated at start-up.
/// </summary>
public sealed class EventHubsStreamOptions
{
    public const string Section = "Events:EventHubs";
    public const string ConnectionStringSetting = $"{Section}:{nameof(ConnectionString)}";
    public const string NameSetting = $"{Section}:{nameof(Name)}";
    public const string ConsumerGroupSetting = $"{Section}:{nameof(ConsumerGroup)}";

    /// <summary>
    /// The Event Hubs namespace's connection string, from its shared access policy: <c>Endpoint=sb://…;
    /// SharedAccessKeyName=…;SharedAccessKey=…</c> (without <c>EntityPath</c>, or with the hub's <see cref="Name"/>).
    /// No default: it is a secret.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The event hub's name in that namespace. No default.</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// The consumer group this cluster reads the hub with. Default <c>$Default</c>, the group every hub has; give
    /// each service reading the same hub a group of its own, or they share (and split) its partitions' checkpoints.
    /// </summary>
    public string ConsumerGroup { get; set; } = "$Default";
}

/// <summary>Each setting that is required is there, and the connection string parses, named as an operator sets it.</summary>
internal sealed class EventHubsStreamOptionsValidation : IValidateOptions<EventHubsStreamOptions>
{
    public ValidateOptionsResult Validate(string? name, EventHubsStreamOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add(Missing(EventHubsStreamOptions.NameSetting));
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add(Missing(EventHubsStreamOptions.ConnectionStringSetting));
        }
        else if (ParseOrNull(options.ConnectionString) is not { Endpoint: not null } connection)
        {
            // The value itself is not repeated: it holds the access key.
            failures.Add($"{EventHubsStreamOptions.ConnectionStringSetting} is not an Event Hubs connection string (Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…).");
        }
        else if (connection.EventHubName is { } entityPath && !string.IsNullOrWhiteSpace(options.Name) && entityPath != options.Name)
        {
            failures.Add($"{EventHubsStreamOptions.ConnectionStringSetting} names hub '{entityPath}' (EntityPath) but {EventHubsStreamOptions.NameSetting} is '{options.Name}'.");
        }

        if (string.IsNullOrWhiteSpace(options.ConsumerGroup))
        {
            failures.Add($"{EventHubsStreamOptions.ConsumerGroupSetting} must not be empty (the default is $Default).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Missing(string setting) =>
        $"{setting} (environment {setting.Replace(":", "__", StringComparison.Ordinal)}) must be set when {EventHubsStreams.ProviderSetting} is {EventHubsStreams.EventHubsProvider}.";

    private static EventHubsConnectionStringProperties? ParseOrNull(string connectionString)
    {
        try
        {
            return EventHubsConnectionStringProperties.Parse(connectionString);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
