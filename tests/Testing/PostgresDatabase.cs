using MyPay.Silo.Storage.Postgres;
using Npgsql;
using Xunit;

namespace MyPay.Testing;

/// <summary>
/// A fresh, empty database on the real PostgreSQL server that <c>./mypay test</c> started (its address
/// in <c>MYPAY_DATABASE_URL</c>), dropped again when the test class is done. Use as an xunit class
/// fixture: each test class gets its own database, so classes can run in parallel.
/// </summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    public const string EnvironmentVariable = "MYPAY_DATABASE_URL";

    private readonly string serverConnectionString;

    public PostgresDatabase()
    {
        var url = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new InvalidOperationException(
                $"{EnvironmentVariable} is not set. Run the tests with ./mypay test, which starts PostgreSQL and sets it.");
        }

        serverConnectionString = PostgresConnection.ToConnectionString(url);
        Name = $"test_{Guid.NewGuid():N}";
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = Name }.ConnectionString;
    }

    public string Name { get; }

    /// <summary>A keyword connection string for this test database.</summary>
    public string ConnectionString { get; }

    public NpgsqlDataSource CreateDataSource() => NpgsqlDataSource.Create(ConnectionString);

    public async Task InitializeAsync()
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{Name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs one scalar query against this test database.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
