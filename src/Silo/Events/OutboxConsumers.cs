using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans;
using Orleans.Metadata;
using Orleans.Runtime;
using Orleans.Streams;

namespace MyPay.Silo.Events;

/// <summary>
/// The outbox's consumers as Orleans knows them: grain types with an implicit stream subscription, named by their
/// grain type (<c>regionprojection</c>). For a consumer and a stream it finds the grain the stream delivers to, as
/// Orleans does — the subscription's namespace predicate, then its stream id mapper — so an operator's replay or rewind
/// reaches the same grain the stream would have.
/// </summary>
public sealed class OutboxConsumers(
    GrainBindingsResolver bindings, IEnumerable<IStreamNamespacePredicateProvider> predicateProviders, IServiceProvider services, IGrainFactory grains, NpgsqlDataSource dataSource)
{
    /// <summary>Events read from the outbox at a time while rewinding.</summary>
    public const int RewindPage = 500;

    /// <summary>The consumer name of a consumer grain: its Orleans grain type.</summary>
    public static string NameOf(IGrainBase grain) => grain.GrainContext.GrainId.Type.ToString()!;

    /// <summary>Every grain type with an implicit stream subscription, by name.</summary>
    public IReadOnlyList<string> Names() =>
        [.. bindings.GetAllBindings().Bindings.Where(entry => StreamBindings(entry.Value).Any()).Select(entry => entry.Key.ToString()!).Order(StringComparer.Ordinal)];

    public bool Exists(string consumer) => Names().Contains(consumer, StringComparer.Ordinal);

    /// <summary>The grain of <paramref name="consumer"/> that <paramref name="stream"/> is delivered to; null when the consumer does not subscribe to its namespace.</summary>
    public IOutboxConsumer? For(string consumer, StreamId stream)
    {
        var all = bindings.GetAllBindings().Bindings;
        if (!all.TryGetValue(GrainType.Create(consumer), out var grainBindings))
        {
            return null;
        }

        var streamNamespace = stream.GetNamespace();
        foreach (var binding in StreamBindings(grainBindings))
        {
            if (streamNamespace is null
                || !binding.TryGetValue(WellKnownGrainTypeProperties.StreamBindingPatternKey, out var pattern)
                || !Matches(pattern, streamNamespace))
            {
                continue;
            }

            var mapperName = binding.TryGetValue(WellKnownGrainTypeProperties.StreamIdMapperKey, out var named) && !string.IsNullOrEmpty(named)
                ? named
                : DefaultStreamIdMapper.Name;
            var key = services.GetRequiredKeyedService<IStreamIdMapper>(mapperName).GetGrainKeyId(grainBindings, stream);
            return grains.GetGrain<IOutboxConsumer>(GrainId.Create(grainBindings.GrainType, key));
        }

        return null;
    }

    /// <summary>
    /// Rewinds <paramref name="consumer"/> to <paramref name="from"/>: hands it again every committed event that
    /// happened then or later on the streams it subscribes to, a page at a time in commit order, each page's events to
    /// the grain their stream delivers to in one call — to rebuild what it keeps once that was reset or its fault fixed.
    /// Consumers apply events idempotently, so an event already applied changes nothing; the stream's own delivery and
    /// other consumers go on untouched.
    /// </summary>
    /// <returns>The events handed to the consumer.</returns>
    public async Task<long> RewindAsync(string consumer, DateTimeOffset from, CancellationToken cancellationToken)
    {
        var (after, handed) = (OutboxPosition.Start, 0L);
        while (true)
        {
            var page = await OutboxLog.ReadCommittedAsync(dataSource, after, RewindPage, from, cancellationToken);
            var byGrain = page
                .Select(read => (Grain: For(consumer, read.Event.StreamId), read.Event))
                .Where(routed => routed.Grain is not null)
                .GroupBy(routed => routed.Grain!.GetGrainId());
            foreach (var grain in byGrain)
            {
                await grain.First().Grain!.Consume([.. grain.Select(routed => routed.Event)]);
                handed += grain.Count();
            }

            if (page.Count < RewindPage)
            {
                return handed;
            }

            after = page[^1].Position;
        }
    }

    private bool Matches(string pattern, string streamNamespace)
    {
        foreach (var provider in predicateProviders)
        {
            if (provider.TryGetPredicate(pattern, out var predicate))
            {
                return predicate.IsMatch(streamNamespace);
            }
        }

        return false;
    }

    private static IEnumerable<IReadOnlyDictionary<string, string>> StreamBindings(GrainBindings grainBindings) =>
        grainBindings.Bindings.Where(binding =>
            binding.TryGetValue(WellKnownGrainTypeProperties.BindingTypeKey, out var type) && type == WellKnownGrainTypeProperties.StreamBindingTypeValue);
}

/// <summary>
/// Maps every stream of a subscription to one grain, keyed <paramref name="key"/>: for a consumer that sees all of a
/// namespace's streams at once (register it keyed by the name its <c>[ImplicitStreamSubscription]</c> gives).
/// </summary>
public sealed class OneGrainStreamIdMapper(string key) : IStreamIdMapper
{
    private readonly IdSpan grainKey = IdSpan.Create(key);

    public IdSpan GetGrainKeyId(GrainBindings grainBindings, StreamId streamId) => grainKey;
}
