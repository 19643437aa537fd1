namespace Gantry.Runtime.Probes;

/// <summary>One probe handed to the <see cref="ProbeLoop"/>; its fields are the loop thread's, but for <see cref="CancelAsked"/>.</summary>
internal sealed class ProbeExchange(byte[] address, ReadOnlyMemory<byte> request, CancellationToken cancellation)
{
    public byte[] Address { get; } = address;

    public ReadOnlyMemory<byte> Request { get; } = request;

    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>Set by the <see cref="ProbeLoop"/> on a pool thread; each continuation is a work item of its own, so none waits behind another that blocks.</summary>
    public TaskCompletionSource<bool> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>When it starts, a timestamp of the loop's clock.</summary>
    public long Due { get; init; }

    /// <summary>When it has failed if not over, a timestamp of the loop's clock (<see cref="long.MaxValue"/>: never).</summary>
    public long Deadline { get; init; }

    public volatile bool CancelAsked;

    public int Fd { get; set; } = -1;

    public int Sent { get; set; }

    public bool Reading { get; set; }

    public int Read { get; set; }

    public int? Status { get; set; }

    public bool Passed { get; set; }

    public byte[]? Buffer { get; set; }
}
