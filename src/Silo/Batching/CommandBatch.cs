using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MyPay.Silo.Diagnostics;
using MyPay.Silo.Grains;

using MyPay.Silo.Storage;
using Orleans;
using Orleans.Providers;
using Orleans.Storage;
using OrleansGrainStorage = Orleans.Storage.IGrainStorage;

namespace MyPay.Silo.Batching;

/// <summary>
/// Lets a hot grain take thousands of commands a second while every command is durable before it is answered. A
/// command is a synchronous function of the state and its arguments: it is applied to memory as it arrives, in
/// arrival order, and the commands that arrive while a write is in flight share the next write (one version bump,
/// one group-commit item), each caller answered after that write commits. The grain must be <c>[Reentrant]</c> for
/// commands to meet in a batch; a grain that is not still gets correct answers, one write per command.
/// <para>
/// What a failed write leaves behind is the committed state, never a change that was not stored: Orleans does not roll
/// a grain's state back when a write fails, so this class keeps the committed state apart from the working one and
/// hands each write a snapshot that nothing changes afterwards. A write that lost to a newer version (another
/// activation wrote) reloads the state and applies its commands again, re-validating them, at most
/// <see cref="CommandBatchOptions.ConflictRetriesMax"/> times in a row; commands must therefore depend on the state
/// and their arguments only. A write whose outcome is unknown (the database failed mid-commit) fails its callers,
/// reloads the state, and re-applies the commands that arrived meanwhile; if the state cannot be reloaded, every
/// waiting command fails and the activation is deactivated, so the next call starts from storage. A write refused because
/// a command's records broke a constraint of their table (<see cref="RecordConflictException"/>: nothing was written)
/// writes its commands again one per write, so that only that command fails.
/// </para>
/// <para>
/// A command with an <see cref="OperationKey"/> takes effect at most once for this state (which must then be an
/// <see cref="IRecordingState"/>): its key and its result are recorded with the write (<see cref="PendingRecords.Record"/>) under a unique constraint. A repeat with the same
/// request hash is answered with the first result — from memory, from the command still in flight, or from storage —
/// and one with another hash fails with <see cref="OperationKeyReusedException"/>.
/// </para>
/// <para>
/// Reads (<see cref="Committed"/>) see the last committed state only, never a change that is still being written.
/// </para>
/// <para>
/// The batch reads and writes the state through the grain storage provider itself (it is the provider's
/// <see cref="IGrainState{T}"/>), rather than through an Orleans <c>[PersistentState]</c> facet, which would add a
/// state holder, a lifecycle subscription and a migration participant to every activation (~340 bytes, measured
/// with <c>BENCH_GCDUMP=1 bench/run memory</c>): a silo holds many idle wallets. So the grain loads it, with
/// <see cref="LoadAsync"/> in its <c>OnActivateAsync</c>, before anything reads it.
/// </para>
/// </summary>
public sealed class CommandBatch<TState> : IGrainState<TState>
    where TState : class, new()
{
    /// <summary>What <see cref="writing"/> and <see cref="applied"/> hold when they hold nothing: never changed.</summary>
    private static readonly List<PendingCommand> NoCommands = [];

    private readonly IGrainBase grain;
    private readonly GroupCommitGrainStorage storage;
    private readonly string stateName;
    private readonly CommandBatchOptions options;

    /// <summary>Recently committed keys and their results; created with the first (most activations of a busy silo never get one).</summary>
    private RecentOperations? recentOperations;

    /// <summary>Keyed commands not settled yet, by key; created with the first (most activations of a busy silo sit idle).</summary>
    private Dictionary<string, PendingCommand>? commandsByOperationId;

    /// <summary>Commands applied to <see cref="working"/>, waiting for the next write; at most <see cref="CommandBatchOptions.CommandsPerWriteMax"/>.</summary>
    private List<PendingCommand> applied = NoCommands;

    /// <summary>Commands beyond a full <see cref="applied"/>: not applied yet, in arrival order; created when the first waits.</summary>
    private Queue<PendingCommand>? waiting;

    /// <summary>The last committed state; null until <see cref="LoadAsync"/> has read it.</summary>
    private TState? committed;

    /// <summary>The state as the storage provider sees it (<see cref="IGrainState{T}"/>): what it read or is writing.</summary>
    private TState? stored;

    /// <summary>The stored row's version as the provider wrote it, or null before the first write.</summary>
    private string? etag;

    private bool recordExists;

    /// <summary>The state a write is storing, while it is in flight; nothing changes it.</summary>
    private TState? inFlight;

    /// <summary>The committed (or in-flight) state with <see cref="applied"/> applied; null when nothing is.</summary>
    private TState? working;

    /// <summary>The commands of the write in flight.</summary>
    private List<PendingCommand> writing = NoCommands;

    private Task? flushing;

    /// <summary>Set while a failed write is being settled and the state reloaded: commands arriving meanwhile wait, unapplied.</summary>
    private bool reloading;

    /// <summary>
    /// How many of the next writes carry one command each: after a write of several failed on a record's constraint
    /// (<see cref="RecordConflictException"/>), writing its commands one by one finds the one whose records broke it.
    /// </summary>
    private int writesAlone;

    /// <param name="grain">The grain that owns the state: deactivated should its state become unknown.</param>
    /// <param name="stateName">The state's name: the grain type's own, keying its row with the grain's key.</param>
    /// <param name="storageName">The name of the <see cref="GroupCommitGrainStorage"/> provider that stores it: Orleans' default unless named.</param>
    public CommandBatch(IGrainBase grain, string stateName, string storageName = ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME)
    {
        this.grain = grain;
        this.stateName = stateName;
        var services = grain.GrainContext.ActivationServices;
        storage = services.GetRequiredKeyedService<OrleansGrainStorage>(storageName) as GroupCommitGrainStorage
            ?? throw new InvalidOperationException($"The grain storage '{storageName}' of state '{stateName}' is not a {nameof(GroupCommitGrainStorage)}: a command batch records its keys with one.");
        options = services.GetService<IOptions<CommandBatchOptions>>()?.Value ?? new CommandBatchOptions();
    }

    /// <summary>The last committed state. Read it; never change it.</summary>
    public TState Committed => committed ?? throw new InvalidOperationException(
        $"The state '{stateName}' of {grain.GrainContext.GrainId} was read before it was loaded: the grain's OnActivateAsync calls LoadAsync.");

    TState? IGrainState<TState>.State { get => stored; set => stored = value; }

    string? IGrainState<TState>.ETag { get => etag; set => etag = value; }

    bool IGrainState<TState>.RecordExists { get => recordExists; set => recordExists = value; }

    /// <summary>Reads the stored state (a new one when none is stored): the grain calls it in its <c>OnActivateAsync</c>.</summary>
    public async Task LoadAsync()
    {
        await storage.ReadStateAsync(stateName, grain.GrainContext.GrainId, this);
        committed = stored;
    }

    /// <summary>Loads the stored state unless it is loaded already.</summary>
    public Task LoadUnlessKnownAsync() => committed is null ? LoadAsync() : Task.CompletedTask;

    private GrainId StorageId => new(stateName, grain.GrainContext.GrainId.Key.ToString()!);

    private Queue<PendingCommand> Waiting => waiting ??= new();

    private int WaitingCount => waiting?.Count ?? 0;

    private int CommandsPerWrite => writesAlone > 0 ? 1 : options.CommandsPerWriteMax;

    /// <summary>
    /// Applies <paramref name="command"/> to the state and completes once a write holding its effect has committed,
    /// with the command's result or exception. A command that throws fails alone: its change is undone and the
    /// commands queued with it are unaffected.
    /// </summary>
    /// <param name="reapply">
    /// Whether a write that lost to another activation's may apply the command again to the state that activation wrote.
    /// True for a command that decides from the state it is given; false for one that writes what its caller decided
    /// from <see cref="Committed"/> (between awaits, say): applied to state its caller never saw it could undo the other
    /// write, so it fails with <see cref="StateConflictException"/> instead, as a stale write does.
    /// </param>
    public Task<TResult> Run<TResult>(Func<TState, TResult> command, OperationKey? operation = null, bool reapply = true)
    {
        if (operation is not null)
        {
            if (!typeof(IRecordingState).IsAssignableFrom(typeof(TState)))
            {
                throw new InvalidOperationException($"{typeof(TState).Name} records no operation keys: a state that does implements {nameof(IRecordingState)}.");
            }

            if (operation.Id.Length is 0 or > OperationKey.IdLengthMax)
            {
                throw new ArgumentException($"An operation key must be 1 to {OperationKey.IdLengthMax} characters; got {operation.Id.Length}.", nameof(operation));
            }

            if (recentOperations?.TryGet(operation.Id, out var recorded) == true)
            {
                return Task.FromResult(Replay<TResult>(operation, recorded));
            }

            if (commandsByOperationId?.TryGetValue(operation.Id, out var first) == true)
            {
                // The key's first use is still on its way to storage: answer the repeat once it is settled.
                return RunAfterAsync(first, command, operation);
            }
        }

        if (applied.Count + WaitingCount >= options.QueuedCommandsMax)
        {
            throw new GrainOverloadedException(StorageId, options.QueuedCommandsMax);
        }

        var pending = new PendingCommand<TResult>(command, operation, reapply);
        if (!reloading && applied.Count < CommandsPerWrite && WaitingCount == 0)
        {
            working ??= Copy(inFlight ?? Committed);
            if (!TryApply(pending))
            {
                return pending.Completion.Task;
            }

            Applied(pending);
        }
        else
        {
            Waiting.Enqueue(pending);
        }

        if (operation is not null)
        {
            (commandsByOperationId ??= new(StringComparer.Ordinal))[operation.Id] = pending;
        }

        if (flushing is not { IsCompleted: false })
        {
            flushing = FlushAsync();
        }

        return pending.Completion.Task;
    }

    /// <summary>
    /// The result first recorded under <paramref name="operation"/>'s key — from memory, from the command still in flight,
    /// or from storage — or null when the key was never used here. A request retried after the world changed (its member
    /// suspended, an account unlinked) is answered from it before anything is checked again. Throws
    /// <see cref="OperationKeyReusedException"/> when the key was first used with another request.
    /// </summary>
    public async Task<TResult?> FindAsync<TResult>(OperationKey operation)
        where TResult : class
    {
        if (recentOperations?.TryGet(operation.Id, out var recorded) == true)
        {
            return Replay<TResult>(operation, recorded);
        }

        if (commandsByOperationId?.TryGetValue(operation.Id, out var first) == true)
        {
            await first.Settled.ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
            if (first.Recorded is { } settled)
            {
                return Replay<TResult>(operation, settled);
            }
        }

        if (await ReadRecordAsync(operation.Id) is not { } stored)
        {
            return null;
        }

        RememberOperation(operation.Id, stored);
        return Replay<TResult>(operation, stored);
    }

    private async Task<TResult> RunAfterAsync<TResult>(PendingCommand first, Func<TState, TResult> command, OperationKey operation)
    {
        // Back on the grain's scheduler whatever the first one's outcome: answered with its recorded result (the memory
        // of recent keys is bounded, and a busy grain may have forgotten it already), or, when it failed, applied anew.
        await first.Settled.ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
        return first.Recorded is { } recorded ? Replay<TResult>(operation, recorded) : await Run(command, operation);
    }

    private TResult Replay<TResult>(OperationKey operation, StoredOperation recorded) =>
        recorded.RequestHash == operation.RequestHash
            ? StateSerializer.Deserialize<TResult>(recorded.Result)
            : throw new OperationKeyReusedException(StorageId, operation.Id);

    /// <summary>Writes batches until no command is left; one flush runs at a time.</summary>
    private async Task FlushAsync()
    {
        var conflicts = 0;
        try
        {
            while (applied.Count > 0 || WaitingCount > 0)
            {
                ApplyWaiting();
                if (applied.Count == 0)
                {
                    continue;
                }

                writing = applied;
                writesAlone = Math.Max(writesAlone - 1, 0);
                var snapshot = working!;
                applied = NoCommands;
                working = null;
                foreach (var command in writing)
                {
                    if (command.Operation is { } operation)
                    {
                        command.Prepared = new StoredOperation(operation.RequestHash, command.SerializeResult());
                        ((IRecordingState)snapshot).Records.Record(new OperationRecord(operation.Id, operation.RequestHash, command.Prepared.Result));
                    }
                }

                inFlight = snapshot;
                stored = snapshot;
                Exception? failure = null;
                try
                {
                    await storage.WriteStateAsync(stateName, grain.GrainContext.GrainId, this);
                }
                catch (Exception exception)
                {
                    failure = exception;
                }

                inFlight = null;
                if (failure is null)
                {
                    committed = snapshot;
                    conflicts = 0;
                    SiloMetrics.CommandsPerWrite.Record(writing.Count);
                    foreach (var command in writing)
                    {
                        if (command.Operation is { } operation)
                        {
                            command.Recorded = command.Prepared!;
                            RememberOperation(operation.Id, command.Recorded);
                        }

                        Settle(command, command.Complete);
                    }

                    continue;
                }

                // The commands applied during the failed write were applied on top of it: they wait to be applied again.
                reloading = true;
                var appliedOnFailure = applied;
                applied = NoCommands;
                working = null;
                var retry = await SettleFailedWriteAsync(writing, failure, ++conflicts);
                if (!await ReloadAsync([.. retry, .. appliedOnFailure]))
                {
                    return;
                }
            }
        }
        catch (Exception exception)
        {
            // A bug (a command that is not deterministic, say): nobody may be left waiting, and memory is not to be trusted.
            FailAll([.. writing, .. applied, .. Waiting], exception);
            applied = NoCommands;
            Waiting.Clear();
            grain.DeactivateOnIdle();
        }
        finally
        {
            reloading = false;
            writing = NoCommands;
            flushing = null;
        }
    }

    /// <summary>Answers what a failed write can answer, and returns the batch's commands that should be applied again.</summary>
    private async Task<List<PendingCommand>> SettleFailedWriteAsync(List<PendingCommand> batch, Exception failure, int conflicts)
    {
        switch (failure)
        {
            case DuplicateOperationException:
                // A key was used before (by an earlier activation, say): those commands are answered from their
                // records, and the rest are written again without them. That is progress, not contention.
                var retry = new List<PendingCommand>(batch.Count);
                foreach (var command in batch)
                {
                    if (command.Operation is null || !await TryAnswerFromRecordAsync(command))
                    {
                        retry.Add(command);
                    }
                }

                return retry;
            case InconsistentStateException:
                var conflict = new StateConflictException(StorageId, ParseVersion(etag));
                if (conflicts > options.ConflictRetriesMax)
                {
                    FailAll(batch, conflict);
                    return [];
                }

                return ReappliedOnly(batch, conflict);
            case RecordConflictException when batch.Count > 1:
                // Nothing was written, and which command's records broke the constraint is unknown: each is written
                // again alone, so that only that one fails, with this exception. They are applied to reloaded state,
                // which a command that may not be applied again refuses, as after a stale write.
                var alone = ReappliedOnly(batch, new StateConflictException(StorageId, ParseVersion(etag)));
                writesAlone = alone.Count;
                return alone;
            default:
                // Whether the write committed is unknown (a record conflict of a command written alone: it did not): only a
                // reload can tell, and the callers are told it failed.
                FailAll(batch, failure);
                return [];
        }
    }

    /// <summary>
    /// Loads the stored state; <paramref name="retry"/>, then the commands that arrived while the failed write was
    /// settled, wait to be applied to it, re-validated. False when the state could not be loaded: every waiting command
    /// has failed and the grain is deactivated.
    /// </summary>
    private async Task<bool> ReloadAsync(List<PendingCommand> retry)
    {
        try
        {
            await storage.ReadStateAsync(stateName, grain.GrainContext.GrainId, this);
        }
        catch (Exception exception)
        {
            // Reads go on seeing the last state known to be committed until the deactivation takes effect.
            FailAll([.. retry, .. Waiting], exception);
            Waiting.Clear();
            grain.DeactivateOnIdle();
            return false;
        }

        committed = stored;
        var arrived = Waiting.ToList();
        Waiting.Clear();
        foreach (var command in retry.Concat(arrived))
        {
            Waiting.Enqueue(command);
        }

        reloading = false;
        return true;
    }

    /// <summary>Moves waiting commands into the next write, applying each, up to the write's limit.</summary>
    private void ApplyWaiting()
    {
        while (WaitingCount > 0 && applied.Count < CommandsPerWrite)
        {
            var command = Waiting.Dequeue();
            working ??= Copy(inFlight ?? Committed);
            if (TryApply(command))
            {
                Applied(command);
            }
        }
    }

    /// <summary>
    /// Applies a command to <see cref="working"/>. When it throws, it is answered with its exception, and the working
    /// state is rebuilt from its base with the other applied commands, since the thrower may have changed it halfway.
    /// </summary>
    private bool TryApply(PendingCommand command)
    {
        if (command.Apply(working!))
        {
            return true;
        }

        if (command.Operation is null)
        {
            Settle(command, command.Complete);
        }
        else
        {
            // A repeat of a key recorded before (by an earlier activation, or one this grain no longer remembers) is
            // applied to today's state, where it may well fail (a recharge already credited): its caller is owed the
            // first result, so storage is asked before the failure is reported.
            _ = AnswerFailedFromRecordAsync(command);
        }

        working = Copy(inFlight ?? Committed);
        foreach (var other in applied)
        {
            if (!other.Apply(working))
            {
                throw new InvalidOperationException(
                    $"A command of {StorageId} threw when applied again to the same state: commands must depend on the state and their arguments only.", other.Error);
            }
        }

        return false;
    }

    private async Task AnswerFailedFromRecordAsync(PendingCommand command)
    {
        try
        {
            if (!await TryAnswerFromRecordAsync(command))
            {
                Settle(command, command.Complete);
            }
        }
        catch (Exception exception)
        {
            // Whether the key was recorded is unknown: the caller is told storage failed, and may retry with the key.
            Settle(command, () => command.Fail(exception));
        }
    }

    /// <summary>Answers a keyed command from its key's record in storage, if there is one.</summary>
    private async Task<bool> TryAnswerFromRecordAsync(PendingCommand command)
    {
        var operation = command.Operation!;
        if (await ReadRecordAsync(operation.Id) is not { } recorded)
        {
            return false;
        }

        command.Recorded = recorded;
        RememberOperation(operation.Id, recorded);
        Settle(command, () => command.CompleteFromRecord(StorageId, recorded));
        return true;
    }

    private Task<StoredOperation?> ReadRecordAsync(string operationId) =>
        storage.ReadOperationAsync(stateName, grain.GrainContext.GrainId, operationId);

    /// <summary>Fails the commands that may not be applied to reloaded state with <paramref name="conflict"/>; returns the others.</summary>
    private List<PendingCommand> ReappliedOnly(List<PendingCommand> batch, StateConflictException conflict)
    {
        FailAll([.. batch.Where(command => !command.Reapply)], conflict);
        return [.. batch.Where(command => command.Reapply)];
    }

    private void Applied(PendingCommand command)
    {
        if (ReferenceEquals(applied, NoCommands))
        {
            applied = [];
        }

        applied.Add(command);
    }

    private void RememberOperation(string operationId, StoredOperation recorded) =>
        (recentOperations ??= new RecentOperations(options.RecentOperationsMax)).Add(operationId, recorded);

    private void FailAll(List<PendingCommand> commands, Exception exception)
    {
        foreach (var command in commands)
        {
            Settle(command, () => command.Fail(exception));
        }
    }

    private void Settle(PendingCommand command, Action answer)
    {
        if (command.Operation is { } operation && commandsByOperationId?.TryGetValue(operation.Id, out var registered) == true && registered == command)
        {
            commandsByOperationId.Remove(operation.Id);
        }

        answer();
    }

    private static TState Copy(TState state) => StateSerializer.Deserialize<TState>(StateSerializer.Serialize(state));

    private static long ParseVersion(string? etag) => long.TryParse(etag, System.Globalization.CultureInfo.InvariantCulture, out var version) ? version : 0;

    /// <summary>A command waiting for its write; typed by its result in <see cref="PendingCommand{TResult}"/>.</summary>
    private abstract class PendingCommand(OperationKey? operation, bool reapply)
    {
        public OperationKey? Operation { get; } = operation;

        /// <summary>Whether a lost version race may apply the command again to the reloaded state.</summary>
        public bool Reapply { get; } = reapply;

        /// <summary>The exception of the last application, if it threw.</summary>
        public Exception? Error { get; protected set; }

        /// <summary>The key's record as the write in flight carries it; it becomes <see cref="Recorded"/> if that write commits.</summary>
        public StoredOperation? Prepared { get; set; }

        /// <summary>The key's record once this command committed or was answered from storage: what a repeat is answered with.</summary>
        public StoredOperation? Recorded { get; set; }

        /// <summary>Completes when the caller has been answered, whichever way (it faults if the answer is an exception).</summary>
        public abstract Task Settled { get; }

        /// <summary>Applies the command to the state; false when it threw.</summary>
        public abstract bool Apply(TState state);

        public abstract byte[] SerializeResult();

        /// <summary>Answers with the last application's result, or its exception.</summary>
        public abstract void Complete();

        public abstract void CompleteFromRecord(GrainId grain, StoredOperation recorded);

        public abstract void Fail(Exception exception);
    }

    private sealed class PendingCommand<TResult>(Func<TState, TResult> command, OperationKey? operation, bool reapply) : PendingCommand(operation, reapply)
    {
        private TResult? result;

        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Task Settled => Completion.Task;

        public override bool Apply(TState state)
        {
            try
            {
                result = command(state);
                Error = null;
                return true;
            }
            catch (Exception exception)
            {
                result = default;
                Error = exception;
                return false;
            }
        }

        public override byte[] SerializeResult() => StateSerializer.Serialize(result);

        public override void Complete()
        {
            if (Error is not null)
            {
                Completion.TrySetException(Error);
                return;
            }

            Completion.TrySetResult(result!);
        }

        public override void CompleteFromRecord(GrainId grain, StoredOperation recorded)
        {
            if (Operation is null || recorded.RequestHash != Operation.RequestHash)
            {
                Completion.TrySetException(new OperationKeyReusedException(grain, Operation?.Id ?? ""));
                return;
            }

            Completion.TrySetResult(StateSerializer.Deserialize<TResult>(recorded.Result));
        }

        public override void Fail(Exception exception) => Completion.TrySetException(exception);
    }
}
