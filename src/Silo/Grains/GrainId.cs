namespace MyPay.Silo.Grains;

/// <summary>
/// The address of a grain: its registered type name and its key. Stable across processes, so it is
/// what storage rows, logs and metrics carry.
/// </summary>
[Orleans.GenerateSerializer]
public readonly record struct GrainId([property: Orleans.Id(0)] string Type, [property: Orleans.Id(1)] string Key)
{
    public override string ToString() => $"{Type}/{Key}";
}
