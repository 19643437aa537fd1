namespace Gantry.Server.Reconciler;

/// <summary>Wakes waiters when something changed; a waiter also wakes after its timeout, so a missed pulse only delays.</summary>
public sealed class Signal
{
    private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Pulse() => Interlocked.Exchange(ref next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct) => WaitAsync(Armed, timeout, time, ct);

    /// <summary>What the next pulse completes: taken before the work it should interrupt, so a pulse during that work is not missed.</summary>
    public Task Armed => Volatile.Read(ref next).Task;

    /// <summary>Until <paramref name="armed"/> (from <see cref="Armed"/>) completes or <paramref name="timeout"/> passes.</summary>
    public static async Task WaitAsync(Task armed, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        if (!armed.IsCompleted)
        {
            await Task.WhenAny(armed, Task.Delay(timeout, time, ct));
        }

        ct.ThrowIfCancellationRequested();
    }
}
