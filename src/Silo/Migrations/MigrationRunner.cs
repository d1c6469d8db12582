using Npgsql;

namespace MyPay.Silo.Migrations;

/// <summary>
/// Applies migrations at start-up, once each, in order. Safe when several nodes start at once: the
/// whole run holds a transaction-scoped advisory lock, so a second node waits, then finds the
/// migrations recorded and applies nothing. Each script is also written to be idempotent.
/// </summary>
public sealed class MigrationRunner(NpgsqlDataSource dataSource, IReadOnlyList<MigrationSource> sources)
{
    // Any constant works; it only has to be the same on every node.
    private const long AdvisoryLockKey = 0x4D79506179; // "MyPay"

    /// <summary>Applies what is missing and returns the ids it applied.</summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", AdvisoryLockKey));
        await ExecuteAsync(
            connection,
            """
            CREATE TABLE IF NOT EXISTS silo_schema_migration (
                id         text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            cancellationToken);

        var applied = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT id FROM silo_schema_migration", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
        }

        var newlyApplied = new List<string>();
        foreach (var migration in sources.SelectMany(source => source.Load()))
        {
            if (applied.Contains(migration.Id))
            {
                continue;
            }

            await ExecuteAsync(connection, migration.Sql, cancellationToken);
            await ExecuteAsync(connection, "INSERT INTO silo_schema_migration (id) VALUES (@id)", cancellationToken, ("id", migration.Id));
            newlyApplied.Add(migration.Id);
        }

        await transaction.CommitAsync(cancellationToken);
        return newlyApplied;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
