using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace MyPay.Silo.Hosting;

/// <summary>
/// Where this node's Orleans silo sits in its cluster. Read from <c>MYPAY_</c> settings (environment variables,
/// or any configuration key of the same name) and validated at start-up. The defaults serve one node on one machine;
/// nodes sharing a machine need ports of their own, and nodes on several machines an address the others can reach.
/// </summary>
public sealed class MyPaySiloOptions
{
    public const string ClusterIdVariable = "MYPAY_CLUSTER_ID";
    public const string ServiceIdVariable = "MYPAY_SERVICE_ID";
    public const string SiloPortVariable = "MYPAY_SILO_PORT";
    public const string GatewayPortVariable = "MYPAY_GATEWAY_PORT";
    public const string AdvertisedAddressVariable = "MYPAY_ADVERTISED_ADDRESS";
    public const string GrainCallTimeoutVariable = "MYPAY_GRAIN_CALL_TIMEOUT";
    public const string DirectoryCacheSizeVariable = "MYPAY_DIRECTORY_CACHE_SIZE";

    /// <summary>
    /// The cluster this silo joins: silos with the same id on the same database form one cluster. Default
    /// <c>mypay</c>. A blue/green deployment gives the new cluster a new id on the same database.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = $"{ClusterIdVariable} must not be empty.")]
    public string ClusterId { get; set; } = "mypay";

    /// <summary>
    /// The service this cluster serves, kept across deployments: Orleans keys durable reminders by it, so changing
    /// it orphans every reminder. Default <c>mypay</c>.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = $"{ServiceIdVariable} must not be empty.")]
    public string ServiceId { get; set; } = "mypay";

    /// <summary>The TCP port silos talk to each other on. Default 11111 (Orleans' own default).</summary>
    [Range(1, 65535, ErrorMessage = $"{SiloPortVariable} must be a TCP port, from 1 to 65535.")]
    public int SiloPort { get; set; } = 11111;

    /// <summary>The TCP port Orleans clients outside the cluster connect to. Default 30000 (Orleans' own default).</summary>
    [Range(1, 65535, ErrorMessage = $"{GatewayPortVariable} must be a TCP port, from 1 to 65535.")]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The IP address this silo listens on and publishes in the membership table for the other silos. Default
    /// <c>127.0.0.1</c>: reachable only from this machine, which is what one node (or several on one machine) needs.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = $"{AdvertisedAddressVariable} must be an IP address.")]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// How long a grain call waits for its answer before it fails with a <see cref="TimeoutException"/> (Orleans'
    /// response timeout, <c>SiloMessagingOptions.ResponseTimeout</c>), which the API answers with a 503 to retry with
    /// the same Idempotency-Key. Default 30 s (Orleans' own): well above a grain call that waits on the database (a
    /// commit takes milliseconds) and above the bounded waits the API makes for the bank, so a call times out only when
    /// something is stuck. The grain is not stopped: it finishes its turn, and a caller that retries waits behind it.
    /// From 1 s to 10 min, as <c>hh:mm:ss</c>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = $"{GrainCallTimeoutVariable} must be a time from 00:00:01 to 00:10:00.")]
    public TimeSpan GrainCallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many grains' addresses the silo keeps in its grain directory cache (Orleans' <c>GrainDirectoryOptions.CacheSize</c>),
    /// least recently used first out. Default 10,000, where Orleans' default of 1,000,000 let the cache grow with the
    /// activations: it cached every local activation too, ~150 bytes each (15 MB for 100,000 idle wallets, measured with
    /// <c>BENCH_GCDUMP=1 bench/run memory</c>). A grain that is not cached is looked up in the directory, which for a
    /// local activation is this silo's own partition; the cache saves the remote look-ups of a cluster's hot grains.
    /// From 3 to 10,000,000.
    /// </summary>
    [Range(3, 10_000_000, ErrorMessage = $"{DirectoryCacheSizeVariable} must be a whole number from 3 to 10000000.")]
    public int DirectoryCacheSize { get; set; } = 10_000;

    /// <summary>Copies the <c>MYPAY_</c> settings that are present over the defaults; a malformed number names its setting.</summary>
    internal void Read(IConfiguration configuration)
    {
        ClusterId = configuration[ClusterIdVariable] ?? ClusterId;
        ServiceId = configuration[ServiceIdVariable] ?? ServiceId;
        AdvertisedAddress = configuration[AdvertisedAddressVariable] ?? AdvertisedAddress;
        SiloPort = ReadCount(configuration, SiloPortVariable, SiloPort);
        GatewayPort = ReadCount(configuration, GatewayPortVariable, GatewayPort);
        GrainCallTimeout = ReadTime(configuration, GrainCallTimeoutVariable, GrainCallTimeout);
        DirectoryCacheSize = ReadCount(configuration, DirectoryCacheSizeVariable, DirectoryCacheSize);
    }

    private static TimeSpan ReadTime(IConfiguration configuration, string variable, TimeSpan fallback)
    {
        var text = configuration[variable];
        if (text is null)
        {
            return fallback;
        }

        // An unparsable time becomes zero, which the range check reports under the setting's name.
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var time) ? time : TimeSpan.Zero;
    }

    private static int ReadCount(IConfiguration configuration, string variable, int fallback)
    {
        var text = configuration[variable];
        if (text is null)
        {
            return fallback;
        }

        // An unparsable number becomes 0, which the range check reports under the setting's name.
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;
    }
}

/// <summary>What data annotations cannot say: the address parses, and the two ports differ.</summary>
internal sealed class MyPaySiloOptionsValidation : IValidateOptions<MyPaySiloOptions>
{
    public ValidateOptionsResult Validate(string? name, MyPaySiloOptions options)
    {
        if (!string.IsNullOrEmpty(options.AdvertisedAddress) && !IPAddress.TryParse(options.AdvertisedAddress, out _))
        {
            return ValidateOptionsResult.Fail(
                $"{MyPaySiloOptions.AdvertisedAddressVariable} must be an IP address; '{options.AdvertisedAddress}' is not.");
        }

        return options.SiloPort == options.GatewayPort
            ? ValidateOptionsResult.Fail($"{MyPaySiloOptions.SiloPortVariable} and {MyPaySiloOptions.GatewayPortVariable} must differ; both are {options.SiloPort}.")
            : ValidateOptionsResult.Success;
    }
}
