using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;
using MyPay.Silo.Diagnostics;
using MyPay.Silo.Grains;
using Npgsql;
using NpgsqlTypes;

namespace MyPay.Silo.Storage.Postgres;

/// <summary>
/// Grain storage on PostgreSQL with group commit: writes from many activations queue here and are
/// written by its committer loops (<see cref="PostgresStorageOptions.ConcurrentCommits"/>, one by default), each taking whatever has queued (up to
/// <see cref="PostgresStorageOptions.MaxBatchSize"/>) into one statement. A busy node therefore
/// makes large batches and an idle one makes batches of one, with no timer in between.
/// A write's task completes only after its transaction has committed, which for a batch with records
/// (<see cref="IRecordWriter"/>) is one round trip too, unless one of its writes is stale or repeated.
/// </summary>
public sealed class PostgresGrainStorage : IGrainStorage, IAsyncDisposable
{
    /// <summary>The SQLSTATE of a states' statement asked for all or nothing that would not write every item (migration 0008).</summary>
    private const string NotAllWritten = "MPW01";

    private readonly NpgsqlDataSource dataSource;
    private readonly PostgresStorageOptions options;
    private readonly Channel<PendingWrite> queue;
    private readonly Task[] committers;
    private readonly Dictionary<Type, IRecordWriter> recordWriters;
    private volatile bool disposed;

    public PostgresGrainStorage(NpgsqlDataSource dataSource, PostgresStorageOptions options, IEnumerable<IRecordWriter>? recordWriters = null)
    {
        this.dataSource = dataSource;
        this.options = options;
        this.recordWriters = (recordWriters ?? []).ToDictionary(writer => writer.RecordType);

        // Bounded, and never waited on: a write that finds it full is refused (TryWrite), so a database that fell behind
        // sheds load at once instead of gathering callers until each one times out.
        queue = Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(options.QueuedWritesMax)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
        committers = [.. Enumerable.Range(0, options.ConcurrentCommits).Select(_ => Task.Run(CommitLoopAsync))];
    }

    /// <summary>Writes waiting for a committer (not those being committed): a queue's depth, for tests and metrics.</summary>
    internal int QueuedWrites => queue.Reader.Count;

    public async Task<StoredState?> ReadAsync(GrainId grain, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = dataSource.CreateCommand(SqlScripts.ReadState);
            command.Parameters.Add(new NpgsqlParameter<string>("grain_type", grain.Type));
            command.Parameters.Add(new NpgsqlParameter<string>("grain_key", grain.Key));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new StoredState(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1))
                : null;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Unavailable($"Could not read grain {grain}: the database is unavailable.", exception);
        }
    }

    public async Task<StoredOperation?> ReadOperationAsync(GrainId grain, string operationId, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = dataSource.CreateCommand(SqlScripts.ReadOperation);
            command.Parameters.Add(new NpgsqlParameter<string>("grain_type", grain.Type));
            command.Parameters.Add(new NpgsqlParameter<string>("grain_key", grain.Key));
            command.Parameters.Add(new NpgsqlParameter<string>("operation_id", operationId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new StoredOperation(reader.GetString(0), reader.GetFieldValue<byte[]>(1))
                : null;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Unavailable($"Could not read operation '{operationId}' of grain {grain}: the database is unavailable.", exception);
        }
    }

    public Task<WriteOutcome> WriteAsync(StateWrite write, CancellationToken cancellationToken)
    {
        if (write.Malformation() is { } malformation)
        {
            return Task.FromException<WriteOutcome>(malformation);
        }

        if (write.Records.FirstOrDefault(record => !recordWriters.ContainsKey(record.GetType())) is { } unwritable)
        {
            return Task.FromException<WriteOutcome>(new ArgumentException(
                $"A write to {write.Grain} carries a {unwritable.GetType().Name}, and no record writer stores that type.", nameof(write)));
        }

        var pending = new PendingWrite(write);
        if (!queue.Writer.TryWrite(pending))
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return Task.FromException<WriteOutcome>(new StorageOverloadedException(write.Grain, options.QueuedWritesMax));
        }

        return pending.Completion.Task;
    }

    public async ValueTask DisposeAsync()
    {
        disposed = true;
        queue.Writer.TryComplete();
        await Task.WhenAll(committers);
    }

    /// <summary>
    /// Whether an exception means the database could not be reached or dropped the connection, as
    /// opposed to a bug in a statement. Only these become <see cref="StorageUnavailableException"/>.
    /// A PostgreSQL error that came from another silo has lost its code: not known to be one of these.
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException { SqlState: null } => false,
        PostgresException postgres => postgres.IsTransient
            || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections,
        NpgsqlException => true,
        SocketException or IOException or TimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// The database is unavailable. When a connection broke (the server went away or shut down, as opposed to a
    /// timeout or a full pool under load), every connection this process keeps pooled may be broken too (the store's,
    /// and those of Orleans' clustering and reminder providers, pooled by connection string), and a pooled connection
    /// is found broken only by the next command sent on it, which then fails. All pools are then cleared, so that once
    /// the database is back the first commands open fresh connections instead of failing on dead ones.
    /// </summary>
    private StorageUnavailableException Unavailable(string message, Exception exception)
    {
        if (BrokeAConnection(exception))
        {
            dataSource.Clear();
            NpgsqlConnection.ClearAllPools();
        }

        return new StorageUnavailableException(message, exception);
    }

    private static bool BrokeAConnection(Exception? exception) => exception switch
    {
        null or TimeoutException => false,
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CannotConnectNow,
        SocketException or IOException => true,
        _ => BrokeAConnection(exception.InnerException),
    };

    private async Task CommitLoopAsync()
    {
        var batch = new List<PendingWrite>(options.MaxBatchSize);
        var grainsInBatch = new HashSet<GrainId>();
        var deferred = new Queue<PendingWrite>();
        while (deferred.Count > 0 || await queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            grainsInBatch.Clear();
            var deferredCount = deferred.Count;
            for (var i = 0; i < deferredCount && batch.Count < options.MaxBatchSize; i++)
            {
                Take(deferred.Dequeue());
            }

            while (batch.Count < options.MaxBatchSize && queue.Reader.TryRead(out var next))
            {
                Take(next);
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch);
            }
        }

        // One grain has at most one write in flight from an activation, but two activations of one
        // grain (on one node, one just collected and one new) could each have one: those go to the
        // next batch, since one statement cannot check two versions of one row.
        void Take(PendingWrite pending)
        {
            if (grainsInBatch.Add(pending.Write.Grain))
            {
                batch.Add(pending);
            }
            else
            {
                deferred.Enqueue(pending);
            }
        }
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var outcomes = await ExecuteBatchAsync(batch);
                var committed = Stopwatch.GetTimestamp();
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.SetResult(outcomes[i]);
                    SiloMetrics.WriteDuration.Record(Stopwatch.GetElapsedTime(batch[i].Queued, committed).TotalMilliseconds);
                }

                SiloMetrics.CommitBatchSize.Record(batch.Count);
                SiloMetrics.CommitDuration.Record(Stopwatch.GetElapsedTime(started, committed).TotalMilliseconds);
                return;
            }
            catch (PostgresException exception) when (attempt < options.BatchRetriesMax && IsRetryableBatchFailure(exception))
            {
                // The statement rolled back whole, so retrying it re-checks every item afresh.
            }
            catch (RecordsRefusedException refused)
            {
                await CommitWithoutTheRefusedAsync(batch, refused.Violation);
                return;
            }
            catch (Exception exception)
            {
                var failure = IsUnavailable(exception)
                    ? Unavailable($"A batch of {batch.Count} grain writes failed: the database is unavailable. Whether it committed is unknown.", exception)
                    : exception;
                foreach (var pending in batch)
                {
                    pending.Completion.SetException(failure);
                }

                return;
            }
        }
    }

    /// <summary>
    /// A record of the batch broke a constraint of its table, so the transaction rolled back whole. The database does not
    /// say whose record it was: the batch is committed again in halves, and halves of the half that fails, until the write
    /// that broke it is alone, and fails alone (<see cref="RecordConflictException"/>) as a stale one does, while its
    /// batch-mates commit. One such write among n costs about 2 log2(n) more transactions, and only on this rare path.
    /// </summary>
    private async Task CommitWithoutTheRefusedAsync(List<PendingWrite> batch, PostgresException violation)
    {
        if (batch.Count == 1)
        {
            batch[0].Completion.SetException(new RecordConflictException(batch[0].Write.Grain, violation.TableName ?? "", violation.ConstraintName ?? ""));
            return;
        }

        var half = batch.Count / 2;
        await CommitAsync(batch.GetRange(0, half));
        await CommitAsync(batch.GetRange(half, batch.Count - half));
    }

    private static bool IsRetryableBatchFailure(PostgresException exception) =>
        exception.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.UniqueViolation;

    private async Task<WriteOutcome[]> ExecuteBatchAsync(List<PendingWrite> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        if (!batch.Exists(pending => pending.Write.Records.Count > 0))
        {
            // Plain state writes commit with the statement itself, in one round trip.
            await using var plain = new NpgsqlBatch(connection) { BatchCommands = { StatesCommand(batch, allOrNothing: false) } };
            return await RunAsync(plain, batch.Count);
        }

        // Records need a transaction around the states' statement and their writers, and are written only for the writes
        // that commit. Nearly always that is every write of the batch: the states, every write's records and the COMMIT
        // then go in one round trip, the statement refusing the whole batch should any write be stale or repeated.
        if (options.RecordsInOneRoundTrip)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using var optimistic = new NpgsqlBatch(connection, transaction) { BatchCommands = { StatesCommand(batch, allOrNothing: true) } };
            AddRecordsAndCommit(optimistic, batch);
            try
            {
                return await RunAsync(optimistic, batch.Count);
            }
            catch (PostgresException exception) when (exception.SqlState == NotAllWritten)
            {
                SiloMetrics.CarefulCommits.Add(1);
            }
        }

        // The careful way, in two round trips: the states' statement, then the records of the writes it wrote, and the
        // COMMIT. Should a writer's statement fail, the statements after it (COMMIT included) are skipped and disposing
        // the transaction rolls it back.
        await using var careful = await connection.BeginTransactionAsync();
        await using var states = new NpgsqlBatch(connection, careful) { BatchCommands = { StatesCommand(batch, allOrNothing: false) } };
        var outcomes = await RunAsync(states, batch.Count);
        await using var records = new NpgsqlBatch(connection, careful);
        AddRecordsAndCommit(records, batch.Where((pending, item) => outcomes[item].Status == WriteStatus.Committed));
        await RunAsync(records, writes: 0);
        return outcomes;
    }

    /// <summary>The group commit's statement for <paramref name="batch"/>'s states (write_states.sql), answering one row per write.</summary>
    private static NpgsqlBatchCommand StatesCommand(List<PendingWrite> batch, bool allOrNothing)
    {
        var count = batch.Count;
        var items = new int[count];
        var grainTypes = new string[count];
        var grainKeys = new string[count];
        var expectedVersions = new long[count];
        var payloads = new byte[count][];
        var operationItems = new List<int>();
        var operationIds = new List<string>();
        var requestHashes = new List<string>();
        var results = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            var write = batch[i].Write;
            items[i] = i;
            grainTypes[i] = write.Grain.Type;
            grainKeys[i] = write.Grain.Key;
            expectedVersions[i] = write.ExpectedVersion;
            payloads[i] = write.Payload;
            foreach (var operation in write.Operations)
            {
                operationItems.Add(i);
                operationIds.Add(operation.Id);
                requestHashes.Add(operation.RequestHash);
                results.Add(operation.Result);
            }
        }

        var command = new NpgsqlBatchCommand(SqlScripts.WriteStates);
        command.Parameters.Add(new NpgsqlParameter<int[]>("items", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = items });
        command.Parameters.Add(new NpgsqlParameter<string[]>("grain_types", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = grainTypes });
        command.Parameters.Add(new NpgsqlParameter<string[]>("grain_keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = grainKeys });
        command.Parameters.Add(new NpgsqlParameter<long[]>("expected_versions", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = expectedVersions });
        command.Parameters.Add(new NpgsqlParameter<byte[][]>("payloads", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = payloads });
        command.Parameters.Add(new NpgsqlParameter<int[]>("operation_items", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = [.. operationItems] });
        command.Parameters.Add(new NpgsqlParameter<string[]>("operation_ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. operationIds] });
        command.Parameters.Add(new NpgsqlParameter<string[]>("request_hashes", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. requestHashes] });
        command.Parameters.Add(new NpgsqlParameter<byte[][]>("results", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = [.. results] });
        command.Parameters.Add(new NpgsqlParameter<bool>("all_or_nothing", NpgsqlDbType.Boolean) { TypedValue = allOrNothing });
        return command;
    }

    /// <summary>The record writers' statements for the records of <paramref name="writes"/>, then the COMMIT.</summary>
    private void AddRecordsAndCommit(NpgsqlBatch batch, IEnumerable<PendingWrite> writes)
    {
        foreach (var ofOneType in writes.SelectMany(pending => pending.Write.Records).GroupBy(record => record.GetType()))
        {
            recordWriters[ofOneType.Key].AddCommands(batch, [.. ofOneType]);
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
    }

    /// <summary>
    /// Runs <paramref name="batch"/> in one round trip. With <paramref name="writes"/> above 0 its first command is the
    /// states' statement, whose answer (one row per write) is returned. A later command's failure of class 23 (integrity
    /// constraint violation) is a record breaking its table's rule, not a race of the states' statement.
    /// </summary>
    private static async Task<WriteOutcome[]> RunAsync(NpgsqlBatch batch, int writes)
    {
        var outcomes = new WriteOutcome[writes];
        try
        {
            await using var reader = await batch.ExecuteReaderAsync();
            var answered = 0;
            while (writes > 0 && await reader.ReadAsync())
            {
                var item = reader.GetInt32(0);
                var version = reader.GetInt64(1);
                var duplicate = reader.GetBoolean(2);
                outcomes[item] = duplicate ? WriteOutcome.Duplicate
                    : version > 0 ? WriteOutcome.CommittedAt(version)
                    : WriteOutcome.Conflict;
                answered++;
            }

            if (answered != writes)
            {
                // A bug, never a business outcome. The batch fails; sent with its COMMIT (one round trip), it may have committed.
                throw new InvalidOperationException($"Group commit answered {answered} of {writes} writes; whether it committed is unknown.");
            }

            while (await reader.NextResultAsync())
            {
            }
        }
        catch (PostgresException exception) when (exception.SqlState.StartsWith("23", StringComparison.Ordinal)
            && (writes == 0 || exception.BatchCommand != batch.BatchCommands[0]))
        {
            throw new RecordsRefusedException(exception);
        }

        return outcomes;
    }

    /// <summary>The records of a batch broke a constraint (<see cref="PostgresException.ConstraintName"/>): nothing of it was written.</summary>
    private sealed class RecordsRefusedException(PostgresException violation) : Exception(violation.Message, violation)
    {
        public PostgresException Violation { get; } = violation;
    }

    private sealed class PendingWrite(StateWrite write)
    {
        public StateWrite Write { get; } = write;

        public TaskCompletionSource<WriteOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When the write was queued (<see cref="Stopwatch.GetTimestamp"/>).</summary>
        public long Queued { get; } = Stopwatch.GetTimestamp();
    }
}
