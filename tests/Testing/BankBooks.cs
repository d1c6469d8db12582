using MyPay.Silo.Storage.Postgres;
using Npgsql;

namespace MyPay.Testing;

/// <summary>
/// The books of one bank simulator under test: a schema of its own (the bank's search path) in the database
/// <c>mypay_bank_tests</c>, which every test bank shares on the server of <c>./mypay test</c> (<c>MYPAY_DATABASE_URL</c>).
/// The bank creates the database and the schema at start, as it creates <c>mypay_bank</c>; the schema is dropped when
/// this is disposed. A schema rather than a database per bank: creating and dropping a database forces a checkpoint,
/// and hundreds of them in a test run stalled the other tests' commits.
/// </summary>
public sealed class BankBooks : IAsyncDisposable
{
    /// <summary>What the bank reads its books' address from.</summary>
    public const string UrlVariable = "MYPAY_BANK_DATABASE_URL";

    private const string DatabaseName = "mypay_bank_tests";

    private readonly string serverConnectionString;

    public BankBooks()
    {
        var url = Environment.GetEnvironmentVariable(PostgresDatabase.EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new InvalidOperationException(
                $"{PostgresDatabase.EnvironmentVariable} is not set. Run the tests with ./mypay test, which starts PostgreSQL and sets it.");
        }

        serverConnectionString = PostgresConnection.ToConnectionString(url);
        Schema = $"bank_{Guid.NewGuid():N}";
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = DatabaseName, SearchPath = Schema }.ConnectionString;
    }

    public string Schema { get; }

    /// <summary>A keyword connection string for the bank: the shared database, with this schema as its search path.</summary>
    public string ConnectionString { get; }

    public async ValueTask DisposeAsync()
    {
        var database = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = DatabaseName, Pooling = false };
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        try
        {
            await connection.OpenAsync();
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            return; // No bank ever started on these books.
        }

        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Schema}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
