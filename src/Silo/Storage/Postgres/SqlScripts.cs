namespace MyPay.Silo.Storage.Postgres;

/// <summary>The SQL this store runs, kept in <c>.sql</c> files beside it and embedded at build time.</summary>
internal static class SqlScripts
{
    public static string ReadState { get; } = Load("read_state.sql");

    public static string ReadOperation { get; } = Load("read_operation.sql");

    public static string WriteStates { get; } = Load("write_states.sql");

    public static string PruneOperations { get; } = Load("prune_operations.sql");

    private static string Load(string name)
    {
        var assembly = typeof(SqlScripts).Assembly;
        using var stream = assembly.GetManifestResourceStream($"MyPay.Silo.Storage.Postgres.Sql.{name}")
            ?? throw new InvalidOperationException($"Embedded SQL script '{name}' is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
