using MyPay.Silo.Storage;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Silo.Tests.Support;

/// <summary>
/// A record the test counter appends to a write: the amount a command added and the counter's value after
/// it, so a row can be matched to the state it was committed with (a stale attempt would carry another total).
/// </summary>
public sealed record TestRecord(string GrainKey, long Value, long Total);

/// <summary>A record type no writer is registered for.</summary>
public sealed record UnwritableRecord(string GrainKey);

/// <summary>
/// Stores <see cref="TestRecord"/>s in <c>test_record</c>, one multi-row insert per batch, as a component's
/// writer should. The table's <c>CHECK (value &gt;= 0)</c> is the invariant a negative record violates.
/// </summary>
public sealed class TestRecordWriter : RecordWriter<TestRecord>
{
    public const string CreateTable = """
        CREATE TABLE IF NOT EXISTS test_record (
            id        bigserial PRIMARY KEY,
            grain_key text      NOT NULL,
            value     bigint    NOT NULL CHECK (value >= 0),
            total     bigint    NOT NULL
        )
        """;

    private int calls;

    /// <summary>How many times storage called this writer: once per committed batch that carried test records.</summary>
    public int Calls => Volatile.Read(ref calls);

    protected override void AddCommands(NpgsqlBatch batch, IReadOnlyList<TestRecord> records)
    {
        Interlocked.Increment(ref calls);
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO test_record (grain_key, value, total)
            SELECT grain_key, value, total
            FROM unnest(@grain_keys::text[], @values::bigint[], @totals::bigint[]) WITH ORDINALITY AS r(grain_key, value, total, position)
            ORDER BY position
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("grain_keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. records.Select(record => record.GrainKey)] });
        command.Parameters.Add(new NpgsqlParameter<long[]>("values", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = [.. records.Select(record => record.Value)] });
        command.Parameters.Add(new NpgsqlParameter<long[]>("totals", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = [.. records.Select(record => record.Total)] });
        batch.BatchCommands.Add(command);
    }
}

/// <summary>A <see cref="SiloDatabase"/> that also has the <c>test_record</c> table, for tests of appended records.</summary>
public sealed class RecordDatabase : IAsyncLifetime
{
    public SiloDatabase Silo { get; } = new();

    public async Task InitializeAsync()
    {
        await Silo.InitializeAsync();
        await using var command = Silo.DataSource.CreateCommand(TestRecordWriter.CreateTable);
        await command.ExecuteNonQueryAsync();
    }

    public Task DisposeAsync() => Silo.DisposeAsync();

    /// <summary>A grain's rows in <c>test_record</c>, in insertion order.</summary>
    public async Task<IReadOnlyList<TestRecord>> ReadRecordsAsync(string grainKey)
    {
        await using var command = Silo.DataSource.CreateCommand("SELECT grain_key, value, total FROM test_record WHERE grain_key = @key ORDER BY id");
        command.Parameters.AddWithValue("key", grainKey);
        await using var reader = await command.ExecuteReaderAsync();
        var records = new List<TestRecord>();
        while (await reader.ReadAsync())
        {
            records.Add(new TestRecord(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
        }

        return records;
    }
}

/// <summary>Passes everything to another storage, counting the writes it was asked for, so a test knows a write has been queued.</summary>
public sealed class CountingGrainStorage(IGrainStorage inner) : IGrainStorage
{
    private int writes;

    public int Writes => Volatile.Read(ref writes);

    public Task<StoredState?> ReadAsync(Grains.GrainId grain, CancellationToken cancellationToken) => inner.ReadAsync(grain, cancellationToken);

    public Task<StoredOperation?> ReadOperationAsync(Grains.GrainId grain, string operationId, CancellationToken cancellationToken) =>
        inner.ReadOperationAsync(grain, operationId, cancellationToken);

    public Task<WriteOutcome> WriteAsync(StateWrite write, CancellationToken cancellationToken)
    {
        try
        {
            return inner.WriteAsync(write, cancellationToken);
        }
        finally
        {
            Interlocked.Increment(ref writes);
        }
    }
}
