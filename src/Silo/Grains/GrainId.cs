namespace MyPay.Silo.Grains;

/// <summary>
/// The address of a grain: its registered type name and its key. Stable across processes, so it is
/// what storage rows, logs and metrics carry.
/// </summary>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";
}
