using Npgsql;

namespace MyPay.Grains.Members;

/// <summary>Reads a member's latest ids from an index table that grain writes append to (remittances, bank commands).</summary>
public static class MemberIndexQuery
{
    /// <summary>Runs <paramref name="sql"/>, which takes <c>@member</c> and <c>@limit</c> and selects ids first, and returns those ids in order.</summary>
    public static async Task<IReadOnlyList<string>> LatestIdsAsync(this NpgsqlDataSource dataSource, string sql, string memberId, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string>("member", memberId));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
