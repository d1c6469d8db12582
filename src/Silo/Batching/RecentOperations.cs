using MyPay.Silo.Storage;

namespace MyPay.Silo.Batching;

/// <summary>
/// A small first-in, first-out memory of recently committed operation keys and their results. A command batch creates
/// it with its first key, since most activations of a busy silo never get one.
/// </summary>
internal sealed class RecentOperations(int capacity)
{
    private readonly Dictionary<string, StoredOperation> byId = new(StringComparer.Ordinal);
    private readonly Queue<string> order = new();

    public bool TryGet(string operationId, out StoredOperation recorded) => byId.TryGetValue(operationId, out recorded!);

    public void Add(string operationId, StoredOperation recorded)
    {
        if (capacity == 0 || !byId.TryAdd(operationId, recorded))
        {
            return;
        }

        order.Enqueue(operationId);
        if (order.Count > capacity)
        {
            byId.Remove(order.Dequeue());
        }
    }
}
