using MyPay.Silo.Storage;

namespace MyPay.Silo.Batching;

/// <summary>
/// A small first-in, first-out memory of recently committed operation keys and their results; it allocates with its
/// first key, since most activations of a busy silo never get one.
/// </summary>
internal sealed class RecentOperations(int capacity)
{
    private Dictionary<string, StoredOperation>? byId;
    private Queue<string>? order;

    public bool TryGet(string operationId, out StoredOperation recorded)
    {
        recorded = null!;
        return byId?.TryGetValue(operationId, out recorded!) == true;
    }

    public void Add(string operationId, StoredOperation recorded)
    {
        if (capacity == 0 || !(byId ??= new(StringComparer.Ordinal)).TryAdd(operationId, recorded))
        {
            return;
        }

        order ??= new();
        order.Enqueue(operationId);
        if (order.Count > capacity)
        {
            byId.Remove(order.Dequeue());
        }
    }
}
