using Microsoft.Extensions.Options;
using MyPay.Silo.Storage.Postgres;
using Npgsql;

namespace MyPay.Silo.Storage.Retention;

/// <summary>Deletes operation keys recorded longer ago than <see cref="OperationKeyOptions.Retention"/>, oldest first, in bounded batches.</summary>
public sealed class OperationKeyPruner(NpgsqlDataSource dataSource, IOptions<OperationKeyOptions> options, TimeProvider time)
{
    /// <summary>Prunes up to <see cref="OperationKeyOptions.PruneBatchesMax"/> batches; returns how many keys it deleted.</summary>
    public async Task<long> PruneAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var cutoff = time.GetUtcNow() - settings.Retention;
        long deleted = 0;
        for (var batch = 0; batch < settings.PruneBatchesMax; batch++)
        {
            await using var command = dataSource.CreateCommand(SqlScripts.PruneOperations);
            command.Parameters.Add(new NpgsqlParameter<DateTime>("cutoff", cutoff.UtcDateTime));
            command.Parameters.Add(new NpgsqlParameter<int>("batch_size", settings.PruneBatchSize));
            var rows = await command.ExecuteNonQueryAsync(cancellationToken);
            deleted += rows;
            if (rows < settings.PruneBatchSize)
            {
                break;
            }
        }

        return deleted;
    }
}
