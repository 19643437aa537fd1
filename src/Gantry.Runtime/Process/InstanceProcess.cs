using Gantry.Core.Runtime;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Gantry.Runtime.Process;

/// <summary>
/// An instance's process: a child this control plane started, or one a predecessor started and this one adopted
/// (known by pid and start time only). Detached instances lead a session of their own, so stopping one reaches
/// everything it started.
/// </summary>
internal sealed partial class InstanceProcess : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Reaped = TimeSpan.FromMilliseconds(5);
    private readonly System.Diagnostics.Process? child;
    private readonly long? startTime;
    private readonly bool detached;

    public InstanceProcess(System.Diagnostics.Process child, bool detached)
    {
        this.child = child;
        this.detached = detached;
        Id = child.Id;
        startTime = ProcessStat.StartTime(Id);
        watch = ExitWatch.Watch(Id, startTime);
    }

    private InstanceProcess(int pid, long startTime)
    {
        Id = pid;
        this.startTime = startTime;
        detached = true;
        watch = ExitWatch.Watch(pid, startTime);
    }

    public static InstanceProcess Adopt(AdoptionRecord record) => new(record.Pid, record.StartTime);

    /// <summary>A launched instance (a container's first process), known by pid and start time; how it ended comes from <paramref name="exit"/>.</summary>
    public static InstanceProcess Launched(LaunchedProcess launched, Func<CancellationToken, Task<string>> exit) => new(launched.Pid, launched.StartTime) { exitOf = exit, StopSignal = launched.StopSignal };

    /// <summary>The signal that asks it to stop (SIGTERM unless its container says otherwise).</summary>
    public int StopSignal { get; private init; } = 15;

    private Func<CancellationToken, Task<string>>? exitOf;

    public int Id { get; }

    /// <summary>When the process started (ticks after boot), as recorded for adoption.</summary>
    public long StartTime => startTime ?? 0;

    public bool Adopted => child is null;

    /// <summary>
    /// Ended: told by its pidfd where the system has them (nothing is read), else a child's state as the runtime keeps
    /// it or one read of <c>/proc</c> for a pid-known process. Once seen ended, it stays ended.
    /// </summary>
    public bool HasExited
    {
        get
        {
            if (!exitSeen && (watch is { Exited.IsCompleted: true } || (child?.HasExited ?? (watch is null && !ProcessStat.IsRunning(Id, startTime)))))
            {
                exitSeen = true;
            }

            return exitSeen;
        }
    }

    /// <summary>
    /// Ended, as last known without reading anything: for status reads, which must not cost a read of <c>/proc</c> per
    /// instance each time the reconciler looks (a pid-known process without a pidfd is as its supervisor last saw it,
    /// at most 250 ms ago).
    /// </summary>
    public bool ExitSeen => exitSeen || watch is { Exited.IsCompleted: true } || child is { HasExited: true };

    /// <summary>Completes when the process ends, as the kernel tells it (its pidfd), or a child's exit as the runtime tells it; null when only polling can tell (<see cref="HasExited"/>).</summary>
    public Task? Ended(CancellationToken ct) => watch?.Exited ?? child?.WaitForExitAsync(ct);

    /// <summary>Whether <see cref="Ended"/> tells of the process's own end at once (a pidfd), not of its output closing too.</summary>
    public bool EndTold => watch is not null;

    private readonly ExitWatch.Watched? watch;

    private volatile bool exitSeen;

    /// <summary>How it ended, as far as this control plane can know (an adopted process's exit code is its predecessor's to read; a child told ended by its pidfd is given a second to be reaped for its code).</summary>
    public async Task<string> ExitAsync(TimeProvider time, CancellationToken ct)
    {
        if (child is { HasExited: false })
        {
            try
            {
                await child.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(1), time, ct);
            }
            catch (TimeoutException)
            {
                // Its output is still held open by something it started: the code can wait.
            }
        }

        return child is { HasExited: true } ? string.Create(CultureInfo.InvariantCulture, $"exited with code {child.ExitCode}")
            : exitOf is not null ? await exitOf(ct)
            : "exited";
    }

    public async Task WaitForExitAsync(TimeProvider time, CancellationToken ct)
    {
        if (watch is not null)
        {
            await watch.Exited.WaitAsync(ct);
            // A child told ended by its pidfd is reaped by the runtime a moment later: wait for that (a second at
            // most), so that a stopped instance is gone when this returns, not a zombie that still has its pid.
            for (var waited = 0; child is { HasExited: false } && waited < 200; waited++)
            {
                await Task.Delay(Reaped, time, ct);
            }

            return;
        }

        if (child is not null)
        {
            await child.WaitForExitAsync(ct);
            return;
        }

        while (!HasExited)
        {
            await Task.Delay(Poll, time, ct);
        }
    }

    public void Signal(int signal) => _ = SendSignal(Id, signal);

    /// <summary>SIGKILL to the process and, when detached, to its whole session's process group.</summary>
    public void KillTree()
    {
        if (detached)
        {
            _ = SendSignal(-Id, 9);
            _ = SendSignal(Id, 9);
        }
        else
        {
            child?.Kill(entireProcessTree: true);
        }
    }

    public void Dispose()
    {
        watch?.Dispose();
        child?.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
