using System.Text.Json;

namespace MyPay.Silo.Storage;

/// <summary>JSON for grain state and command results: UTF-8 bytes, web casing, nothing dynamic.</summary>
internal static class StateSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T Deserialize<T>(byte[] payload) =>
        JsonSerializer.Deserialize<T>(payload, Options)
        ?? throw new InvalidOperationException($"Stored {typeof(T).Name} deserialized to null.");
}
