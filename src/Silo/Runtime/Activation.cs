using System.Diagnostics;
using MyPay.Silo.Batching;
using MyPay.Silo.Diagnostics;
using MyPay.Silo.Grains;
using MyPay.Silo.Storage;

namespace MyPay.Silo.Runtime;

/// <summary>
/// One live grain on this node: its mailbox, its state and the loop that runs its turns.
/// <para>
/// Turn-based: one pump runs at a time (started when a message arrives at an empty mailbox, ended
/// when the mailbox is empty), so no two turns overlap and messages run in arrival order. A turn
/// is one asynchronous call, a run of read-only queries, or a run of up to
/// <see cref="SiloOptions.CommandsPerTurnMax"/> commands that are applied one after another and then
/// written with one version bump; their callers are answered only after that write has committed.
/// </para>
/// </summary>
internal sealed class Activation<TGrain>
    where TGrain : class
{
    private readonly Lock gate = new();
    private readonly Queue<WorkItem<TGrain>> mailbox = new();
    private readonly GrainId id;
    private readonly IStateCell state;
    private readonly Func<TGrain> createGrain;
    private readonly IGrainStorage storage;
    private readonly SiloOptions options;
    private readonly RecentOperations recentOperations;
    private TGrain? grain;
    private bool pumping;

    /// <summary>Commands and calls in the mailbox: what <see cref="SiloOptions.MailboxCapacity"/> bounds. Guarded by the gate.</summary>
    private int queuedWork;
    private bool collected;
    private long lastActiveAt = Stopwatch.GetTimestamp();

    public Activation(GrainId id, IStateCell state, Func<TGrain> createGrain, IGrainStorage storage, SiloOptions options)
    {
        this.id = id;
        this.state = state;
        this.createGrain = createGrain;
        this.storage = storage;
        this.options = options;
        recentOperations = new RecentOperations(options.RecentOperationsPerActivation);
    }

    /// <summary>
    /// Queues a message. False when this activation has been collected: the caller looks the grain
    /// up again and gets a new activation.
    /// </summary>
    public bool TryEnqueue(WorkItem<TGrain> item)
    {
        lock (gate)
        {
            if (collected)
            {
                return false;
            }

            if (item.Kind != TurnKind.Read)
            {
                if (queuedWork >= options.MailboxCapacity)
                {
                    throw new GrainOverloadedException(id, options.MailboxCapacity);
                }

                queuedWork++;
            }

            mailbox.Enqueue(item);
            if (pumping)
            {
                return true;
            }

            pumping = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static activation => _ = activation.PumpAsync(), this, preferLocal: false);
        return true;
    }

    /// <summary>
    /// Marks the activation collected if it has been idle since <paramref name="idleSince"/>: no turn
    /// running, nothing queued. After this, <see cref="TryEnqueue"/> refuses, so no message can reach
    /// a collected activation while a new one runs.
    /// </summary>
    public bool TryCollect(long idleSince)
    {
        lock (gate)
        {
            if (pumping || mailbox.Count > 0 || lastActiveAt > idleSince)
            {
                return false;
            }

            collected = true;
            return true;
        }
    }

    private async Task PumpAsync()
    {
        var turn = new List<WorkItem<TGrain>>(options.CommandsPerTurnMax);
        while (true)
        {
            turn.Clear();
            lock (gate)
            {
                if (mailbox.Count == 0)
                {
                    pumping = false;
                    lastActiveAt = Stopwatch.GetTimestamp();
                    return;
                }

                TakeTurn(turn);
            }

            try
            {
                await RunTurnAsync(turn);
            }
            catch (Exception exception)
            {
                // RunTurnAsync answers every caller itself; reaching here is a runtime bug. Fail what may
                // still be waiting rather than leave a caller hanging, and reload before the next turn.
                Debug.Fail($"Turn of {id} escaped: {exception}");
                foreach (var item in turn)
                {
                    item.Fail(exception);
                }
            }
        }
    }

    /// <summary>Takes the next turn's messages: one call, or a run of reads, or a run of commands with distinct operation keys.</summary>
    private void TakeTurn(List<WorkItem<TGrain>> turn)
    {
        var first = Dequeue();
        turn.Add(first);
        if (first.Kind == TurnKind.Call)
        {
            return;
        }

        HashSet<string>? operationIds = first is CommandItem<TGrain> { Operation: { } firstOperation } ? [firstOperation.Id] : null;
        while (turn.Count < options.CommandsPerTurnMax && mailbox.TryPeek(out var next) && next.Kind == first.Kind)
        {
            // A repeated operation key waits for the next turn, where it is answered from the first one's record.
            if (next is CommandItem<TGrain> { Operation: { } operation } && !(operationIds ??= []).Add(operation.Id))
            {
                break;
            }

            turn.Add(Dequeue());
        }
    }

    private WorkItem<TGrain> Dequeue()
    {
        var item = mailbox.Dequeue();
        if (item.Kind != TurnKind.Read)
        {
            queuedWork--;
        }

        return item;
    }

    private async Task RunTurnAsync(List<WorkItem<TGrain>> turn)
    {
        TGrain activeGrain;
        try
        {
            activeGrain = await EnsureActiveAsync();
        }
        catch (Exception exception)
        {
            foreach (var item in turn)
            {
                item.Fail(exception);
            }

            return;
        }

        switch (turn[0])
        {
            case CallItem<TGrain> call:
                if (!await call.RunAsync(activeGrain))
                {
                    // The turn may have changed state before it threw: go back to what was committed.
                    state.RestoreCommitted();
                }

                break;
            case ReadItem<TGrain>:
                foreach (var item in turn)
                {
                    ((ReadItem<TGrain>)item).Run(activeGrain);
                }

                break;
            default:
                await RunCommandsAsync(activeGrain, [.. turn.Cast<CommandItem<TGrain>>()]);
                break;
        }
    }

    private async Task<TGrain> EnsureActiveAsync()
    {
        if (state.IsStale)
        {
            await state.LoadAsync(CancellationToken.None);
        }

        return grain ??= createGrain();
    }

    private async Task RunCommandsAsync(TGrain activeGrain, List<CommandItem<TGrain>> pending)
    {
        pending.RemoveAll(AnsweredFromRecentOperations);
        var conflicts = 0;
        while (pending.Count > 0)
        {
            foreach (var command in pending)
            {
                command.Apply(activeGrain);
            }

            if (pending.Any(command => command.Error is not null))
            {
                // A command that threw may have changed state halfway: answer it, go back to the committed
                // state and re-apply only the commands that succeeded.
                pending.RemoveAll(command =>
                {
                    if (command.Error is null)
                    {
                        return false;
                    }

                    command.Complete();
                    return true;
                });
                state.RestoreCommitted();
                continue;
            }

            var operations = pending
                .Where(command => command.Operation is not null)
                .Select(command => new OperationRecord(command.Operation!.Id, command.Operation.RequestHash, command.SerializeResult()))
                .ToList();

            WriteOutcome outcome;
            try
            {
                outcome = await state.CommitAsync(operations, CancellationToken.None);
            }
            catch (Exception exception)
            {
                FailAll(pending, exception);
                return;
            }

            if (outcome.Status == WriteStatus.Committed)
            {
                SiloMetrics.CommandsPerTurn.Record(pending.Count);
                foreach (var operation in operations)
                {
                    recentOperations.Add(operation.Id, new StoredOperation(operation.RequestHash, operation.Result));
                }

                foreach (var command in pending)
                {
                    command.Complete();
                }

                return;
            }

            try
            {
                // A key used before is answered from its record: that is progress, not contention, so only a
                // write that answered nothing spends one of the bounded conflict retries.
                var answered = outcome.Status == WriteStatus.DuplicateOperation ? await AnswerRecordedOperationsAsync(pending) : 0;
                if (answered == 0 && ++conflicts > options.ConflictRetriesMax)
                {
                    FailAll(pending, new StateConflictException(id, state.Version));
                    return;
                }

                // Re-validate what is left on the state another writer committed.
                await state.LoadAsync(CancellationToken.None);
            }
            catch (Exception exception)
            {
                FailAll(pending, exception);
                return;
            }
        }
    }

    private static void FailAll(List<CommandItem<TGrain>> commands, Exception exception)
    {
        foreach (var command in commands)
        {
            command.Fail(exception);
        }
    }

    private bool AnsweredFromRecentOperations(CommandItem<TGrain> command)
    {
        if (command.Operation is not { } operation || !recentOperations.TryGet(operation.Id, out var recorded))
        {
            return false;
        }

        command.CompleteFromRecord(id, recorded);
        return true;
    }

    /// <summary>Answers the commands whose keys storage has recorded, removes them from <paramref name="pending"/>, and says how many.</summary>
    private async Task<int> AnswerRecordedOperationsAsync(List<CommandItem<TGrain>> pending)
    {
        var answered = 0;
        for (var i = pending.Count - 1; i >= 0; i--)
        {
            if (pending[i].Operation is not { } operation)
            {
                continue;
            }

            var recorded = await storage.ReadOperationAsync(id, operation.Id, CancellationToken.None);
            if (recorded is not null)
            {
                recentOperations.Add(operation.Id, recorded);
                pending[i].CompleteFromRecord(id, recorded);
                pending.RemoveAt(i);
                answered++;
            }
        }

        return answered;
    }
}
