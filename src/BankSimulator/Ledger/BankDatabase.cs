using Npgsql;

namespace MyPay.BankSimulator.Ledger;

/// <summary>
/// The bank's own PostgreSQL database, named by <c>MYPAY_BANK_DATABASE_URL</c>: created if the server lacks it, then
/// brought to the current schema by the bank's migrations, before the first request. The bank keeps its books there
/// so that a restart, or a crash, finds every account and transfer it ever answered about.
/// </summary>
public static class BankDatabase
{
    public const string UrlVariable = "MYPAY_BANK_DATABASE_URL";

    // Any constant: the same for every bank process starting on one database, so migrations run once.
    private const long MigrationLockKey = 0x42616E6B; // "Bank"

    private const string MigrationPrefix = "MyPay.BankSimulator.Ledger.Sql.";

    /// <summary>The process's one data source, read from configuration when first needed (at start, before seeding).</summary>
    public static IServiceCollection AddBankDatabase(this IServiceCollection services)
    {
        services.AddSingleton(provider =>
        {
            var url = provider.GetRequiredService<IConfiguration>()[UrlVariable];
            return string.IsNullOrWhiteSpace(url)
                ? throw new InvalidOperationException(
                    $"{UrlVariable} is not set: the bank keeps its accounts and transfers in PostgreSQL. Set it to a database URL such as postgresql://postgres@127.0.0.1:5432/mypay_bank (./mypay run does).")
                : NpgsqlDataSource.Create(WithAsynchronousCommit(ToConnectionString(url)));
        });
        return services;
    }

    /// <summary>
    /// The bank's commits do not wait for the disk (<c>synchronous_commit = off</c>), unless the connection string's
    /// <c>Options</c> say otherwise. Transfers are serialized (nearly all take the corporate account), so waiting for a
    /// flush per transfer capped the bank at one transfer per flush: under load, a thousand concurrent recharges
    /// took minutes. What it costs: a bank process that crashes loses nothing (PostgreSQL has the commit); a PostgreSQL
    /// server that crashes may lose its last fraction of a second of transfers. On the server MyPay itself uses (as
    /// <c>./mypay run</c> sets it up) even that is harmless: MyPay's own commits wait for the disk, and flushing one flushes
    /// every earlier commit, so any bank answer MyPay has recorded is on disk; a transfer lost before MyPay recorded
    /// anything is one MyPay still awaits, and it asks the bank, finds no record and sends it again under the same id.
    /// </summary>
    private static string WithAsynchronousCommit(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Options ??= "-c synchronous_commit=off";
        return builder.ConnectionString;
    }

    /// <summary>Creates the database if it is missing and applies the migrations it lacks.</summary>
    public static async Task PrepareBankDatabaseAsync(this WebApplication app)
    {
        var dataSource = app.Services.GetRequiredService<NpgsqlDataSource>();
        await CreateIfMissingAsync(new NpgsqlConnectionStringBuilder(dataSource.ConnectionString));
        await CreateSchemaIfMissingAsync(dataSource);
        await MigrateAsync(dataSource);
    }

    /// <summary>
    /// Accepts a URL (<c>postgresql://user:password@host:port/database?Keyword=value</c>), as MyPay's own
    /// <c>MYPAY_DATABASE_URL</c> is written, or a keyword connection string (<c>Host=...;Database=...</c>).
    /// </summary>
    public static string ToConnectionString(string urlOrConnectionString)
    {
        if (!urlOrConnectionString.StartsWith("postgres://", StringComparison.Ordinal)
            && !urlOrConnectionString.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return new NpgsqlConnectionStringBuilder(urlOrConnectionString).ConnectionString;
        }

        var url = new Uri(urlOrConnectionString);
        var user = url.UserInfo.Split(':', 2).Select(Uri.UnescapeDataString).ToArray();
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host,
            Port = url.Port > 0 ? url.Port : 5432,
            Database = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/')) is { Length: > 0 } database ? database : "mypay_bank",
            Username = user[0] is { Length: > 0 } name ? name : null,
            Password = user.Length == 2 ? user[1] : null,
        };
        foreach (var setting in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries).Select(pair => pair.Split('=', 2)))
        {
            builder[Uri.UnescapeDataString(setting[0])] = setting.Length == 2 ? Uri.UnescapeDataString(setting[1]) : "true";
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// Creates the bank's database through the server's <c>postgres</c> database. Two banks starting at once may both
    /// find it missing; the one that loses the race finds it created (duplicate_database) and goes on.
    /// </summary>
    private static async Task CreateIfMissingAsync(NpgsqlConnectionStringBuilder bank)
    {
        var name = bank.Database ?? throw new InvalidOperationException($"{UrlVariable} names no database.");
        var server = new NpgsqlConnectionStringBuilder(bank.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT FROM pg_database WHERE datname = @name)", connection);
        exists.Parameters.AddWithValue("name", name);
        if ((bool)(await exists.ExecuteScalarAsync())!)
        {
            return;
        }

        await using var create = new NpgsqlCommand($"CREATE DATABASE {QuoteIdentifier(name)}", connection);
        try
        {
            await create.ExecuteNonQueryAsync();
        }
        catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Created by another bank process in the meantime (at the same instant, the catalog's unique index says so).
        }
    }

    private static string QuoteIdentifier(string name) => $"\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>
    /// Books kept in a schema of a shared database (<c>Search Path=...</c> in the connection string, as the tests do)
    /// get that schema: the first of the search path, created if missing. Without a search path, tables go to <c>public</c>.
    /// </summary>
    private static async Task CreateSchemaIfMissingAsync(NpgsqlDataSource dataSource)
    {
        if (new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).SearchPath?.Split(',')[0].Trim() is not { Length: > 0 } schema)
        {
            return;
        }

        await using var create = dataSource.CreateCommand($"CREATE SCHEMA IF NOT EXISTS {QuoteIdentifier(schema)}");
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>Applies each embedded <c>Ledger/Sql/*.sql</c> file once, in name order, in one transaction under an advisory lock.</summary>
    private static async Task MigrateAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var prepare = new NpgsqlBatch(connection, transaction))
        {
            prepare.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(@key)") { Parameters = { new("key", MigrationLockKey) } });
            prepare.BatchCommands.Add(new NpgsqlBatchCommand(
                "CREATE TABLE IF NOT EXISTS bank_schema_migration (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"));
            await prepare.ExecuteNonQueryAsync();
        }

        var assembly = typeof(BankDatabase).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(name => name.StartsWith(MigrationPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            await using var applied = new NpgsqlCommand("INSERT INTO bank_schema_migration (id) VALUES (@id) ON CONFLICT DO NOTHING", connection, transaction);
            applied.Parameters.AddWithValue("id", resource[MigrationPrefix.Length..]);
            if (await applied.ExecuteNonQueryAsync() == 0)
            {
                continue;
            }

            await using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            await using var migration = new NpgsqlCommand(await reader.ReadToEndAsync(), connection, transaction);
            await migration.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }
}
