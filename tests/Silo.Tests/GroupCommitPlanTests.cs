using System.Text;
using System.Text.RegularExpressions;
using MyPay.Silo.Storage.Postgres;
using MyPay.Silo.Tests.Support;

namespace MyPay.Silo.Tests;

/// <summary>
/// The group-commit statement is prepared, and PostgreSQL may then keep one generic plan for it, made from
/// the statistics of that moment, until the next ANALYZE. On a young database those say the tables are tiny:
/// a plan that hashes a whole table once per execution looks cheapest, and then reads the table on every
/// batch as it grows. The statement must be index-driven under such a plan too.
/// </summary>
public sealed partial class GroupCommitPlanTests(SiloDatabase database) : IClassFixture<SiloDatabase>
{
    [Fact]
    public async Task GenericPlanOnAYoungTable_ProbesTheOperationKeyIndex()
    {
        // Young tables: a few hundred rows each, never analysed.
        await using (var fill = database.DataSource.CreateCommand(
            """
            INSERT INTO silo_grain_state (grain_type, grain_key, version, payload)
            SELECT 'plan', 'k' || g, 1, '\x7b7d' FROM generate_series(1, 400) g;
            INSERT INTO silo_grain_operation (grain_type, grain_key, operation_id, request_hash, result)
            SELECT 'plan', 'k' || (g % 400), 'op' || g, 'h', '\x00' FROM generate_series(1, 1000) g;
            """))
        {
            await fill.ExecuteNonQueryAsync();
        }

        var plan = await GenericPlanAsync(SqlScripts.WriteStates,
            "'{1}', '{plan}', '{k1}', '{1}', '{\"\\\\x7b7d\"}', '{1}', '{new-op}', '{h}', '{\"\\\\x00\"}', false");

        Assert.Contains("Index Only Scan using silo_grain_operation_pkey on silo_grain_operation", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan on silo_grain_operation", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("hashed SubPlan", plan, StringComparison.Ordinal);
    }

    /// <summary>The plan PostgreSQL would keep for a prepared statement, forced generic at once.</summary>
    private async Task<string> GenericPlanAsync(string sql, string arguments)
    {
        // @name parameters become $1, $2... in order of first use, as Npgsql sends them; the SQL casts each one.
        var names = new List<string>();
        var positional = NamedParameter().Replace(sql, match =>
        {
            if (!names.Contains(match.Groups[1].Value))
            {
                names.Add(match.Groups[1].Value);
            }

            return "$" + (names.IndexOf(match.Groups[1].Value) + 1);
        });

        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var batch = connection.CreateBatch();
        batch.BatchCommands.Add(new("SET plan_cache_mode = force_generic_plan"));
        batch.BatchCommands.Add(new($"PREPARE planned AS {positional}"));
        batch.BatchCommands.Add(new($"EXPLAIN EXECUTE planned({arguments})"));
        await using var reader = await batch.ExecuteReaderAsync();
        var plan = new StringBuilder();
        while (await reader.ReadAsync())
        {
            plan.AppendLine(reader.GetString(0));
        }

        return plan.ToString();
    }

    [GeneratedRegex(@"@(\w+)")]
    private static partial Regex NamedParameter();
}
