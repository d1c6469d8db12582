using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;
using MyPay.Silo.Reminders;

namespace MyPay.Silo.Tests.Support;

/// <summary>Builds a silo hosting the reminder test grain, the way a node's service collection does.</summary>
internal static class ReminderSilo
{
    /// <summary>The reminder grain's stored type name.</summary>
    public const string GrainType = "reminder-test";

    public static ServiceProvider Build(
        Action<IServiceCollection> addStorage,
        ReminderProbe probe,
        Action<ReminderOptions>? reminders = null,
        Action<SiloOptions>? silo = null,
        ILoggerProvider? logs = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        if (logs is not null)
        {
            services.AddSingleton(logs);
        }

        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSilo(builder => builder.AddGrain<IReminderGrain, ReminderGrain, ReminderGrainState>(
            GrainType,
            reference => new ReminderReference(reference),
            (_, id, state) => new ReminderGrain(id, state, probe),
            onReminder: (grain, name) => grain.OnReminderAsync(name)));
        addStorage(services);
        if (reminders is not null)
        {
            services.Configure(reminders);
        }

        if (silo is not null)
        {
            services.Configure(silo);
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    /// <summary>A silo on PostgreSQL with its own data source (as a separate node has), and its reminder service not started.</summary>
    public static ServiceProvider BuildOnPostgres(
        string connectionString,
        ReminderProbe probe,
        Action<ReminderOptions>? reminders = null,
        Action<SiloOptions>? silo = null,
        ILoggerProvider? logs = null) =>
        Build(services => services.AddPostgresGrainStorage($"{connectionString};Maximum Pool Size=20"), probe, reminders, silo, logs);

    /// <summary>The silo's reminder service, the hosted service <c>AddSilo</c> registered (to start once migrations are applied).</summary>
    public static ReminderService GetReminderService(this IServiceProvider provider) =>
        provider.GetServices<IHostedService>().Select(service => service is StartAfterMigrations later ? later.Service : service).OfType<ReminderService>().Single();

    public static IReminderGrain GetReminderGrain(this IServiceProvider provider, string key) =>
        provider.GetRequiredService<IGrainFactory>().GetGrain<IReminderGrain>(key);

    public static string NewKey() => $"reminder-{Guid.NewGuid():N}";

    /// <summary>One poll of a reminder service, bounded by <see cref="TestSilo.Timeout"/>; returns how many ticks it fired.</summary>
    public static Task<int> PollAsync(this ReminderService service) => service.FireDueAsync(CancellationToken.None).WaitAsync(TestSilo.Timeout);

    /// <summary>A time to the millisecond, so it compares equal after PostgreSQL's microsecond storage.</summary>
    public static DateTimeOffset ToMilliseconds(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    /// <summary>Waits until <paramref name="condition"/> holds, checking every few milliseconds, for at most <see cref="TestSilo.Timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Waited {TestSilo.Timeout} for {what}.");
            await Task.Delay(10);
        }
    }

    /// <summary>Waits until an asynchronous <paramref name="condition"/> (a query, a poll) holds, for at most <see cref="TestSilo.Timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TestSilo.Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Waited {TestSilo.Timeout} for {what}.");
            await Task.Delay(10);
        }
    }
}

/// <summary>A row of <c>silo_reminder</c>, read with SQL. Times are UTC.</summary>
public sealed record StoredReminder(string Name, DateTime DueAt, long? PeriodMs, string? LeaseOwner, DateTime? LeaseUntil);

/// <summary>SQL on <c>silo_reminder</c>, bypassing any silo.</summary>
public static class ReminderRows
{
    public static async Task<IReadOnlyList<StoredReminder>> ReadRemindersAsync(this SiloDatabase database, GrainId grain)
    {
        await using var command = database.DataSource.CreateCommand(
            "SELECT name, due_at, period_ms, lease_owner, lease_until FROM silo_reminder WHERE grain_type = @type AND grain_key = @key ORDER BY name");
        command.Parameters.AddWithValue("type", grain.Type);
        command.Parameters.AddWithValue("key", grain.Key);
        await using var reader = await command.ExecuteReaderAsync();
        var reminders = new List<StoredReminder>();
        while (await reader.ReadAsync())
        {
            reminders.Add(new StoredReminder(
                reader.GetString(0),
                reader.GetFieldValue<DateTime>(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTime>(4)));
        }

        return reminders;
    }

    public static async Task<StoredReminder?> ReadReminderAsync(this SiloDatabase database, GrainId grain, string name) =>
        (await database.ReadRemindersAsync(grain)).SingleOrDefault(reminder => reminder.Name == name);

    /// <summary>Runs <c>UPDATE silo_reminder SET {assignments}</c> on one reminder, as another node or an outage would have left it; returns the rows changed.</summary>
    public static async Task<int> UpdateReminderAsync(this SiloDatabase database, GrainId grain, string name, string assignments)
    {
        await using var command = database.DataSource.CreateCommand(
            $"UPDATE silo_reminder SET {assignments} WHERE grain_type = @type AND grain_key = @key AND name = @name");
        command.Parameters.AddWithValue("type", grain.Type);
        command.Parameters.AddWithValue("key", grain.Key);
        command.Parameters.AddWithValue("name", name);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>Inserts a reminder row directly, as a node hosting another grain type would have stored it.</summary>
    public static async Task InsertReminderAsync(this SiloDatabase database, GrainId grain, string name)
    {
        await using var command = database.DataSource.CreateCommand(
            "INSERT INTO silo_reminder (grain_type, grain_key, name, due_at) VALUES (@type, @key, @name, now())");
        command.Parameters.AddWithValue("type", grain.Type);
        command.Parameters.AddWithValue("key", grain.Key);
        command.Parameters.AddWithValue("name", name);
        await command.ExecuteNonQueryAsync();
    }

    public static Task<DateTime> NowAsync(this SiloDatabase database) => database.ScalarAsync<DateTime>("SELECT now()");

    public static async Task DeleteAllRemindersAsync(this SiloDatabase database)
    {
        await using var command = database.DataSource.CreateCommand("DELETE FROM silo_reminder");
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>Keeps every log entry of the providers it is added to, for tests that assert on what was logged.</summary>
public sealed class LogCollector : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, entries);

    public void Dispose()
    {
        // Nothing to release: the entries stay readable after the provider is disposed.
    }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception));
    }
}

public sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);
