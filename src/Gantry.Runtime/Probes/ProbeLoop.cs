using System.Buffers;
using System.Collections.Concurrent;
using static Gantry.Runtime.Native.LibC;

namespace Gantry.Runtime.Probes;

/// <summary>
/// Makes every HTTP probe of the process on one thread of its own: non-blocking sockets, one <c>poll(2)</c> over all
/// of them and an eventfd that tells it of a new probe. Probes that fall due together (<see cref="ProbeSchedule"/>)
/// are connected, written and read in the same few wake-ups of this thread, where each probe on the runtime's
/// asynchronous sockets woke a thread-pool worker for its connection and again for its answer; on a machine where a
/// thread's wake-up costs more than the exchange itself, those wake-ups were most of a probe's CPU (bench/README,
/// "Probes on one thread"). A probe can be handed over ahead of time with the moment it is due and its timeout: the
/// thread then wakes by itself when probes fall due, with no timer of the caller's. The results of one turn are given
/// to their callers together, on the thread pool. Null from <see cref="Shared"/> where the system lacks the calls (the probe then uses the runtime's
/// sockets).
/// </summary>
public sealed partial class ProbeLoop
{
    private const int Buffer = 4096;
    private const int ReadAtMost = 64 * 1024;
    private const short Failed = 0x8 | 0x10; // POLLERR | POLLHUP

    /// <summary>How long a turn that has some answers waits once for the others (bench/README, "Probes the loop repeats": 197 us a probe without, 167 us with 3 ms, 159 us with 6 ms).</summary>
    private const int Linger = 3;
    private static readonly Lazy<ProbeLoop?> Started = new(() => Start(TimeProvider.System));
    private readonly int wake;
    private readonly ConcurrentQueue<ProbeExchange> arriving = new();
    private readonly PriorityQueue<ProbeExchange, long> waiting = new();
    private readonly List<ProbeExchange> inFlight = [];
    private readonly SpareSockets spares = new();
    private List<ProbeExchange> finished = [];
    private PollFd[] fds = new PollFd[64];
    private int signalled;
    private int cancels;
    private long plannedWake = long.MaxValue;
    private int seenCancels;

    private ProbeLoop(int wake, TimeProvider time)
    {
        this.wake = wake;
        Time = time;
    }

    /// <summary>The process's probe loop, started at its first use; null where the system cannot run it.</summary>
    public static ProbeLoop? Shared => Started.Value;

    /// <summary>The clock whose timestamps say when a probe is due and when it times out.</summary>
    public TimeProvider Time { get; }

    /// <summary>How many probes this loop has started (repeats included).</summary>
    public long Made => Interlocked.Read(ref made);

    private long made;

    /// <summary>How many probes connected a socket an earlier probe had used (<see cref="SpareSockets"/>) rather than a new one.</summary>
    public long Reused => spares.Reused;

    /// <summary>
    /// Connects to <paramref name="address"/> (a <c>sockaddr</c>, <see cref="ProbeSockets.Address"/>), writes
    /// <paramref name="request"/>, reads the status line and the rest of a short answer to its end, and ends the connection with a reset (the socket kept for another probe, <see cref="SpareSockets"/>): true
    /// for a status of 200-399. False when it cannot connect, the connection breaks or the answer is not HTTP. Starts
    /// at <paramref name="due"/> (a timestamp of <see cref="Time"/>) and is false when not over
    /// <paramref name="timeout"/> later; null means now, and no timeout but <paramref name="ct"/>.
    /// </summary>
    internal async Task<bool> PassesAsync(byte[] address, ReadOnlyMemory<byte> request, long? due, TimeSpan timeout, CancellationToken ct) =>
        (await StartAsync(address, request, due, timeout, null, false, ct)).Passed;

    /// <summary>
    /// As <see cref="PassesAsync"/>, and with <paramref name="repeat"/> the probe is made again every interval (on the
    /// grid of <see cref="ProbeSchedule"/>) for as long as its result is <paramref name="steady"/>, on this loop alone:
    /// only a result that differs is given back, with when its probe started. An instance whose health does not
    /// change costs no work of the thread pool between probes.
    /// </summary>
    internal Task<ProbeResult> StartAsync(byte[] address, ReadOnlyMemory<byte> request, long? due, TimeSpan timeout, TimeSpan? repeat, bool steady, CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<ProbeResult>(ct);
        }

        var start = due ?? Time.GetTimestamp();
        var ticks = due is null ? long.MaxValue - start : (long)(timeout.TotalSeconds * Time.TimestampFrequency);
        var exchange = new ProbeExchange(address, request, ct)
        {
            Due = start,
            Deadline = start + ticks,
            Timeout = ticks,
            Repeat = due is null ? null : repeat,
            Steady = steady,
        };
        if (ct.CanBeCanceled)
        {
            exchange.Registration = ct.UnsafeRegister(static state =>
            {
                var (loop, e) = ((ProbeLoop, ProbeExchange))state!;
                e.CancelAsked = true;
                _ = Interlocked.Increment(ref loop.cancels);
                loop.Signal();
            }, (this, exchange));
        }

        arriving.Enqueue(exchange);
        if (start < Interlocked.Read(ref plannedWake))
        {
            Signal(); // sooner than the loop means to wake
        }

        return exchange.Result.Task;
    }

    private static ProbeLoop? Start(TimeProvider time)
    {
        int wake;
        try
        {
            wake = EventFd(0, NonBlockingCloseOnExec);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }

        if (wake < 0)
        {
            return null;
        }

        var loop = new ProbeLoop(wake, time);
        new Thread(loop.Run) { IsBackground = true, Name = "gantry probes" }.Start();
        return loop;
    }

    private void Signal()
    {
        if (Interlocked.Exchange(ref signalled, 1) == 0)
        {
            _ = Write(wake, [1, 0, 0, 0, 0, 0, 0, 0], 8);
        }
    }

    private void Run()
    {
        while (true)
        {
            try
            {
                Turn();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A fault here must not leave probes unanswered for ever: those under way fail, and the loop goes on.
                for (var i = inFlight.Count - 1; i >= 0; i--)
                {
                    Finish(inFlight[i], i);
                }

                Deliver();
            }
        }
    }

    /// <summary>One turn: starts what fell due, ends what timed out or was given back, gives out results, then waits for the sockets, a new probe or the next moment something is due.</summary>
    private void Turn()
    {
        var now = Time.GetTimestamp();
        while (arriving.TryDequeue(out var exchange))
        {
            waiting.Enqueue(exchange, exchange.Due);
        }

        if (Volatile.Read(ref cancels) != seenCancels)
        {
            seenCancels = Volatile.Read(ref cancels);
            DropCancelled();
        }

        while (waiting.TryPeek(out var exchange, out var due) && due <= now)
        {
            _ = waiting.Dequeue();
            inFlight.Add(exchange);
            _ = Interlocked.Increment(ref made);
            if (exchange.CancelAsked || Begin(exchange))
            {
                Finish(exchange, inFlight.Count - 1);
            }
        }

        var wakeAt = waiting.TryPeek(out _, out var next) ? next : long.MaxValue;
        for (var i = inFlight.Count - 1; i >= 0; i--)
        {
            var exchange = inFlight[i];
            if (exchange.CancelAsked || exchange.Deadline <= now)
            {
                Finish(exchange, i); // a timeout is a failed probe
            }
            else
            {
                wakeAt = Math.Min(wakeAt, exchange.Deadline);
            }
        }

        Deliver();

        // Said before the last look at the queue, so a probe due sooner either is seen here or signals the loop.
        _ = Interlocked.Exchange(ref plannedWake, wakeAt);
        if (!arriving.IsEmpty)
        {
            return;
        }

        var count = inFlight.Count + 1;
        if (fds.Length < count)
        {
            fds = new PollFd[count * 2];
        }

        fds[0] = new PollFd { Fd = wake, Events = PollIn };
        for (var i = 0; i < inFlight.Count; i++)
        {
            fds[i + 1] = new PollFd { Fd = inFlight[i].Fd, Events = inFlight[i].Reading ? PollIn : PollOut };
        }

        var ready = Poll(fds, (nuint)count, TimeoutOf(wakeAt));
        if (ready < 0)
        {
            return; // EINTR
        }

        if (ready > 0 && ready < count - 1 && fds[0].Revents == 0)
        {
            // Some answers are in and others still on their way: they usually come within a few milliseconds of each
            // other (one process each), so wait that long once and take them all in this wake-up, not one each.
            Thread.Sleep(Linger);
            _ = Poll(fds, (nuint)count, 0);
        }

        if (fds[0].Revents != 0)
        {
            Span<byte> drain = stackalloc byte[8];
            _ = Read(wake, drain, 8);
            Volatile.Write(ref signalled, 0);
        }

        // Backwards, so that a finished exchange can take the last one's place.
        for (var i = inFlight.Count - 1; i >= 0; i--)
        {
            if (fds[i + 1].Revents != 0 && Advance(inFlight[i], fds[i + 1].Revents))
            {
                Finish(inFlight[i], i);
            }
        }
    }

    /// <summary>Milliseconds until <paramref name="wakeAt"/>, rounded up; -1 for never.</summary>
    private int TimeoutOf(long wakeAt)
    {
        if (wakeAt == long.MaxValue)
        {
            return -1;
        }

        var ticks = wakeAt - Time.GetTimestamp();
        return ticks <= 0 ? 0 : (int)Math.Min(int.MaxValue, Math.Ceiling(ticks * 1000.0 / Time.TimestampFrequency));
    }

    /// <summary>Gives back, cancelled, the probes not yet started whose callers stopped waiting.</summary>
    private void DropCancelled()
    {
        var keep = waiting.UnorderedItems.ToList();
        waiting.Clear();
        foreach (var (exchange, due) in keep)
        {
            if (exchange.CancelAsked)
            {
                _ = exchange.Registration.Unregister();
                Finished(exchange);
            }
            else
            {
                waiting.Enqueue(exchange, due);
            }
        }
    }

    /// <summary>
    /// Gives the results of this turn to their callers from one work item on the thread pool, which queues their
    /// continuations there: the worker woken for it runs them, where results given from this thread woke one
    /// each. A continuation never runs on this thread, nor inline behind another (one that blocked on a lock held by
    /// another caller waiting for its result in the same batch would wait for ever).
    /// </summary>
    private void Deliver()
    {
        if (finished.Count == 0)
        {
            return;
        }

        var batch = finished;
        finished = [];
        _ = ThreadPool.UnsafeQueueUserWorkItem(static batch =>
        {
            foreach (var exchange in batch)
            {
                _ = exchange.CancelAsked ? exchange.Result.TrySetCanceled(exchange.Cancellation) : exchange.Result.TrySetResult(new ProbeResult(exchange.Passed, exchange.Due));
            }
        }, batch, preferLocal: false);
    }

    private void Finish(ProbeExchange exchange, int index)
    {
        inFlight[index] = inFlight[^1];
        inFlight.RemoveAt(inFlight.Count - 1);
        if (exchange.Fd >= 0)
        {
            spares.Give(exchange.Fd, exchange.Address, connected: exchange.Sent > 0);
        }

        if (exchange.Buffer is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (exchange.Repeat is { } interval && !exchange.CancelAsked && exchange.Passed == exchange.Steady)
        {
            // Steady: made again an interval after it started, or an interval from now if the loop fell that far behind.
            var next = ProbeSchedule.Next(exchange.Due, interval, Time.TimestampFrequency);
            var now = Time.GetTimestamp();
            exchange.Again(next > now ? next : ProbeSchedule.Next(now, interval, Time.TimestampFrequency));
            waiting.Enqueue(exchange, exchange.Due);
            return;
        }

        _ = exchange.Registration.Unregister();
        Finished(exchange);
    }

    private void Finished(ProbeExchange exchange) => finished.Add(exchange);
}
