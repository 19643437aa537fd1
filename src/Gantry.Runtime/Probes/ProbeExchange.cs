namespace Gantry.Runtime.Probes;

/// <summary>One probe handed to the <see cref="ProbeLoop"/>; its fields are the loop thread's, but for <see cref="CancelAsked"/>.</summary>
internal sealed class ProbeExchange(byte[] address, ReadOnlyMemory<byte> request, CancellationToken cancellation)
{
    public byte[] Address { get; } = address;

    public ReadOnlyMemory<byte> Request { get; } = request;

    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>Set by the <see cref="ProbeLoop"/> on a pool thread; each continuation is a work item of its own, so none waits behind another that blocks.</summary>
    public TaskCompletionSource<ProbeResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>When it starts, a timestamp of the loop's clock.</summary>
    public long Due { get; set; }

    /// <summary>When it has failed if not over, a timestamp of the loop's clock (<see cref="long.MaxValue"/>: never).</summary>
    public long Deadline { get; set; }

    /// <summary>How long each probe may take, in ticks of the loop's clock.</summary>
    public long Timeout { get; init; }

    /// <summary>Made again every interval, on the loop, while its result is <see cref="Steady"/>; null: made once.</summary>
    public TimeSpan? Repeat { get; init; }

    /// <summary>The result that is made again rather than given back (with <see cref="Repeat"/>).</summary>
    public bool Steady { get; init; }

    public volatile bool CancelAsked;

    public int Fd { get; set; } = -1;

    public int Sent { get; set; }

    public bool Reading { get; set; }

    public int Read { get; set; }

    public int? Status { get; set; }

    public bool Passed { get; set; }

    public byte[]? Buffer { get; set; }

    /// <summary>Ready to be made again at <paramref name="due"/> (its socket closed and its buffer given back by the loop).</summary>
    public void Again(long due)
    {
        Due = due;
        Deadline = due + Timeout;
        Fd = -1;
        Sent = 0;
        Reading = false;
        Read = 0;
        Status = null;
        Passed = false;
        Buffer = null;
    }
}

/// <summary>A probe's result and when it started, a timestamp of the prober's clock (the next one is due an interval on).</summary>
public readonly record struct ProbeResult(bool Passed, long StartedAt);
