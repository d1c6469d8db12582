using System.Text.Json.Serialization;
using MyPay.Silo.Storage;
using Orleans;

namespace MyPay.Grains.Banking;

[GenerateSerializer]
public sealed class FirmbankingState : IRecordingState
{
    [Id(0)]
    public FirmbankingRecord? Record { get; set; }

    /// <summary>The index row of each write.</summary>
    [JsonIgnore]
    [field: NonSerialized]
    public PendingRecords Records { get; } = new();
}
