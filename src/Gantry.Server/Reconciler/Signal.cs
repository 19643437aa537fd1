namespace Gantry.Server.Reconciler;

/// <summary>Wakes waiters when something changed; a waiter also wakes after its timeout, so a missed pulse only delays.</summary>
public sealed class Signal
{
    private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Pulse() => Interlocked.Exchange(ref next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        var pulse = Volatile.Read(ref next).Task;
        await Task.WhenAny(pulse, Task.Delay(timeout, time, ct));
        ct.ThrowIfCancellationRequested();
    }
}
