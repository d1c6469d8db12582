using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace MyPay.Silo.Caching;

/// <summary>
/// A thread-safe memo of at most about <see cref="CountMax"/> entries: past that it starts over empty, which costs one
/// recomputation per entry still in use and keeps the memory bounded without tracking what was used last. For values
/// cheap to make again and worth keeping on a hot path (grain references, validated tokens).
/// </summary>
public sealed class BoundedCache<TKey, TValue>(int countMax, IEqualityComparer<TKey>? comparer = null)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> entries = new(comparer);

    // Counted apart: ConcurrentDictionary.Count takes every lock of the dictionary.
    private int count;

    public int CountMax { get; } = countMax;

    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value) => entries.TryGetValue(key, out value);

    /// <summary>Keeps <paramref name="value"/> under <paramref name="key"/> unless one is kept already; past the bound, starts over.</summary>
    public void Add(TKey key, TValue value)
    {
        if (entries.TryAdd(key, value) && Interlocked.Increment(ref count) > CountMax)
        {
            entries.Clear();
            Interlocked.Exchange(ref count, 0);
        }
    }

    public void Remove(TKey key)
    {
        if (entries.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref count);
        }
    }
}
