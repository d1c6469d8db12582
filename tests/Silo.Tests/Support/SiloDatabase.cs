using MyPay.Silo.Grains;
using MyPay.Silo.Migrations;
using MyPay.Silo.Storage;
using MyPay.Testing;
using Npgsql;

namespace MyPay.Silo.Tests.Support;

/// <summary>A fresh PostgreSQL database for one test class, with the silo's migrations applied.</summary>
public sealed class SiloDatabase : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();
    private NpgsqlDataSource? dataSource;

    public string ConnectionString => database.ConnectionString;

    /// <summary>A data source for the test's own SQL, apart from any silo's.</summary>
    public NpgsqlDataSource DataSource => dataSource ?? throw new InvalidOperationException("The database is not initialized.");

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        dataSource = database.CreateDataSource();
        await new MigrationRunner(dataSource, [MigrationSource.Silo]).ApplyAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (dataSource is not null)
        {
            await dataSource.DisposeAsync();
        }

        await database.DisposeAsync();
    }

    /// <summary>Reads a grain's row from <c>silo_grain_state</c> with SQL, bypassing any silo.</summary>
    public async Task<StoredState?> ReadStateAsync(GrainId grain)
    {
        await using var command = DataSource.CreateCommand(
            "SELECT version, payload FROM silo_grain_state WHERE grain_type = @type AND grain_key = @key");
        command.Parameters.AddWithValue("type", grain.Type);
        command.Parameters.AddWithValue("key", grain.Key);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new StoredState(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : null;
    }

    public Task<T> ScalarAsync<T>(string sql) => database.ScalarAsync<T>(sql);
}
