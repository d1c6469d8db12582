using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Streams;

namespace MyPay.Silo.Events;

/// <summary>
/// Carries the outbox to the Event Hubs stream provider (<see cref="EventHubsStreams"/>): reads the outbox in commit
/// order with <see cref="OutboxQueueReceiver"/> under a checkpoint of its own (<c>{service}/eventhubs-relay/0</c>),
/// sends each event on the stream it names, and moves the checkpoint only after the hub took the batch, so every
/// committed event is sent at least once. A relay that restarts sends the events past its checkpoint again; consumers
/// apply each event once by its sequence.
/// <para>
/// Every node runs one, and one at a time reads: the one holding a PostgreSQL session advisory lock, on a connection of
/// its own outside the pool (the lock lives exactly as long as that session, so a node that dies or loses the database
/// lets another take over; a node whose machine vanishes, within about 25 s, through TCP keepalives). The others try again every <see cref="LockRetryInterval"/>. Before each send the holder
/// checks its connection is still up; two relays may still send the same batch if it breaks within that send, which
/// consumers take once.
/// </para>
/// </summary>
internal sealed partial class OutboxRelay(
    string connectionString,
    NpgsqlDataSource dataSource,
    string serviceId,
    IClusterClient client,
    ILoggerFactory loggers) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    /// <summary>Most events read from the outbox at once: as many as the outbox provider reads.</summary>
    public const int BatchSize = OutboxQueueAdapterFactory.BatchSize;

    /// <summary>Most events of one stream sent in one message to the hub: 64, far below its 1 MB message limit.</summary>
    public const int SendEventsMax = 64;

    /// <summary>The wait before reading again when the outbox had nothing new: 50 ms, as the outbox provider's agent.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How often a relay that does not hold the lock, or that failed, tries again: 5 s.</summary>
    public static readonly TimeSpan LockRetryInterval = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan InitializeTimeout = TimeSpan.FromSeconds(30);

    private readonly string reader = $"{serviceId}/eventhubs-relay/0";
    private readonly ILogger logger = loggers.CreateLogger<OutboxRelay>();
    private readonly CancellationTokenSource stopping = new();
    private Task running = Task.CompletedTask;

    /// <summary>Runs a relay on this silo, sending the outbox to the stream provider <see cref="OutboxQueueAdapterFactory.ProviderName"/>.</summary>
    /// <param name="connectionString">The database's connection string: the relay holds its lock on a connection of its own.</param>
    public static void AddTo(IServiceCollection services, string connectionString) =>
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(provider => new OutboxRelay(
            connectionString,
            provider.GetRequiredService<NpgsqlDataSource>(),
            provider.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            provider.GetRequiredService<IClusterClient>(),
            provider.GetRequiredService<ILoggerFactory>()));

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(OutboxRelay), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    public void Dispose() => stopping.Dispose();

    private Task StartAsync(CancellationToken cancellationToken)
    {
        running = Task.Run(() => RunAsync(stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await running.WaitAsync(cancellationToken);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RelayWhileHoldingTheLockAsync(cancellationToken);
                await Task.Delay(LockRetryInterval, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogRelayFailed(logger, exception, reader, LockRetryInterval);
                await Task.Delay(LockRetryInterval, CancellationToken.None);
            }
        }
    }

    /// <summary>Returns at once when another node holds the lock; otherwise relays until stopped or a failure.</summary>
    private async Task RelayWhileHoldingTheLockAsync(CancellationToken cancellationToken)
    {
        await using var lockConnection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await lockConnection.OpenAsync(cancellationToken);
        if (!await TryLockAsync(lockConnection, cancellationToken))
        {
            return;
        }

        await StartWhereTheOutboxProviderStoppedAsync(cancellationToken);
        var receiver = new OutboxQueueReceiver(dataSource, reader, BatchSize, loggers.CreateLogger<OutboxQueueReceiver>());
        await receiver.Initialize(InitializeTimeout);
        var streams = client.GetStreamProvider(OutboxQueueAdapterFactory.ProviderName);
        LogRelaying(logger, reader);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = await receiver.GetQueueMessagesAsync(BatchSize);
            if (batch.Count == 0)
            {
                await Task.Delay(PollInterval, cancellationToken);
                continue;
            }

            await EnsureConnectedAsync(lockConnection, cancellationToken);
            await SendAsync(streams, batch.Cast<OutboxBatchContainer>());
            await receiver.MessagesDeliveredAsync(batch);
        }
    }

    /// <summary>
    /// One message per stream of the batch (in chunks of <see cref="SendEventsMax"/>), its events in commit order: the
    /// provider puts a stream's messages on one partition, where order holds. Streams need no order between them.
    /// </summary>
    private static async Task SendAsync(IStreamProvider streams, IEnumerable<OutboxBatchContainer> batch)
    {
        foreach (var stream in batch.SelectMany(container => container.Events).GroupBy(published => published.StreamId))
        {
            foreach (var events in stream.Chunk(SendEventsMax))
            {
                await streams.GetStream<OutboxEvent>(stream.Key).OnNextBatchAsync(events);
            }
        }
    }

    /// <summary>
    /// Two int keys, a lock space apart from the migrations' single bigint key; the second is the reader's name, so
    /// services sharing a database relay apart.
    /// </summary>
    private async Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // PostgreSQL learns that a node vanished without closing its connection (its machine or network gone) only by
        // TCP keepalives: probing this session after 10 s idle, every 5 s, 3 times, frees the lock in about 25 s
        // instead of the operating system's two hours. (Ignored on a Unix socket, where nothing can vanish that way.)
        await using (var keepAlive = new NpgsqlCommand("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3", connection))
        {
            await keepAlive.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtext('mypay.outbox-relay'), hashtext(@reader))", connection);
        command.Parameters.Add(new NpgsqlParameter<string>("reader", reader));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Throws when the lock's connection broke: its session, and the lock with it, are gone.</summary>
    private static async Task EnsureConnectedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// A relay with no checkpoint yet starts from the outbox provider's (when the service switches to Event Hubs), so
    /// the events consumers already had are not sent again; it starts from the outbox's beginning when there is none.
    /// </summary>
    private async Task StartWhereTheOutboxProviderStoppedAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO outbox_reader (reader, tx, position)
            SELECT @reader, tx, position FROM outbox_reader WHERE starts_with(reader, @outboxReaders)
            ORDER BY tx, position LIMIT 1
            ON CONFLICT (reader) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("reader", reader));
        command.Parameters.Add(new NpgsqlParameter<string>("outboxReaders", $"{serviceId}/{OutboxQueueAdapterFactory.ProviderName}/"));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox relay {Reader} holds the relay lock and sends the outbox to Event Hubs")]
    private static partial void LogRelaying(ILogger logger, string reader);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox relay {Reader} failed; it tries again in {Wait}")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, string reader, TimeSpan wait);
}
