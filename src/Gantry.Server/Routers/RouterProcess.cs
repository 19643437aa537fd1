using Gantry.Core.Audit;
using Gantry.Core.Runtime;
using Gantry.Core.Traffic;
using Gantry.Proxy.Control;
using Gantry.Proxy.Metrics;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Routers;

/// <summary>How to start <c>gantry router --data DIR</c>: the executable and its arguments; and its spare's (<c>--spare</c>), when one is kept.</summary>
public sealed record RouterLaunch(string FileName, IReadOnlyList<string> Arguments, IReadOnlyList<string>? SpareArguments = null);

/// <summary>
/// The router as a process of its own (<c>gantry router --data DIR</c>), seen from the control plane: found again
/// through its pid file when it already runs, started detached when not, given numbered tables over its admin API and
/// read back; watched (its end told by its pidfd) and started again when it dies, the gap recorded in the audit trail. It serves its
/// last table on its own, so the control plane may stop, crash or be upgraded without a request failing. With
/// <see cref="RouterLaunch.SpareArguments"/> a warmed-up spare waits to serve the moment the router ends (its own
/// watch, not this one's), and a new spare is started after each takeover.
/// </summary>
public sealed partial class RouterProcess(RouterFiles files, RouterLaunch launch, IAuditStore audit, TimeProvider time, ILogger<RouterProcess> log)
    : ITrafficRouter, IPublishedTables, IRouterMetrics, IAsyncDisposable
{
    private static readonly TimeSpan Watch = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan SpareGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SpareCheck = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource stopping = new();
    private int disposed;
    private readonly SemaphoreSlim applying = new(1, 1);
    private RouterAdminClient? client;
    private RouteTable applied = RouteTable.Empty;
    private Task? watching;
    private long lastAlive;
    private long spareChecked;

    public string Name => "builtin";

    public RouterCapabilities Capabilities => RouterCapability.Builtin;

    /// <summary>The router's pid as last seen.</summary>
    public int? Pid { get; private set; }

    /// <summary>How many times the router was found dead and started again.</summary>
    public int Restarts { get; private set; }

    private RouterAdminClient Client => client ?? throw new InvalidOperationException("the router process has not been started");

    /// <summary>Finds the running router or starts one, and watches it from now on.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        client = new RouterAdminClient(files, files.EnsureToken());
        var replaceSpare = false;
        if (files.LivePid() is { } pid && await StatusAsync(ct) is { } status)
        {
            Pid = pid;
            applied = await Client.TableAsync(ct);
            LogFound(log, pid, status.TableVersion);
            if (status.Version != RouterAdmin.Version)
            {
                // A router of another Gantry version: hand its listeners to one of this version, without a gap.
                var answer = await Client.HandoverAsync(new HandoverRequest(launch.FileName, launch.Arguments), ct);
                LogUpgraded(log, status.Version, RouterAdmin.Version, answer.Pid, answer.Error);
                Pid = answer.Pid ?? Pid;
                // Its spare would take over with the old version too.
                replaceSpare = true;
            }
        }
        else
        {
            var started = await LaunchAsync(ct);
            LogStarted(log, started.Pid, started.TableVersion);
        }

        lastAlive = time.GetTimestamp();
        await StartSpareAsync(replaceSpare, ct);
        watching = Task.Run(() => WatchAsync(stopping.Token), CancellationToken.None);
    }

    public Task<TrafficApplyResult> ApplyAsync(Core.ValueList<TrafficRoute> routes, CancellationToken ct) => ApplyAsync(routes, 0, false, ct);

    public Task<TrafficApplyResult> ApplyPublishedAsync(Core.ValueList<TrafficRoute> routes, long published, bool follows, CancellationToken ct) => ApplyAsync(routes, published, follows, ct);

    private async Task<TrafficApplyResult> ApplyAsync(Core.ValueList<TrafficRoute> routes, long published, bool follows, CancellationToken ct)
    {
        await applying.WaitAsync(ct);
        try
        {
            // What this control plane applied last is what the router has, unless another one shares it: a feed,
            // which read the router back before it came here, always asks the router.
            if (!follows && routes == applied.Routes && applied.Version > 0 && applied.Published == published)
            {
                return new TrafficApplyResult(true, null);
            }

            var table = new RouteTable(applied.Version + 1, routes, published, follows);
            var answer = await Client.ApplyAsync(table, ct);
            if (!answer.Applied && !answer.Superseded && answer.Version > applied.Version)
            {
                // Someone put a newer table in force (another replica on this data directory): number after it, once,
                // unless it was published after this one (then this one is not put back over it).
                table = table with { Version = answer.Version + 1 };
                answer = await Client.ApplyAsync(table, ct);
            }

            if (answer.Applied)
            {
                applied = table;
            }
            else if (answer.Version > applied.Version)
            {
                applied = applied with { Version = answer.Version };
            }

            return new TrafficApplyResult(answer.Applied, answer.Error, answer.Superseded);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return new TrafficApplyResult(false, $"the router process did not answer: {ex.GetBaseException().Message}");
        }
        finally
        {
            applying.Release();
        }
    }

    /// <summary>Times the whole table was read back (<see cref="InForceAsync"/> found another process or table version).</summary>
    public long TablesRead => Interlocked.Read(ref tablesRead);

    private long tablesRead;

    /// <summary>The table last read back, with the process that served it: swapped whole.</summary>
    private volatile ReadBack? readBack;

    private sealed record ReadBack(int Pid, long Version, Core.ValueList<TrafficRoute> Routes);

    /// <summary>
    /// What the router has in force. Its status first, a few bytes: a router process changes its table only under a
    /// new version, so the same process at the version read last time has those routes, and the whole table (every
    /// route, JSON) is read only when either moved.
    /// </summary>
    public async ValueTask<Core.ValueList<TrafficRoute>> InForceAsync(CancellationToken ct)
    {
        try
        {
            var status = await Client.StatusAsync(ct);
            if (readBack is { } last && last.Pid == status.Pid && last.Version == status.TableVersion)
            {
                return last.Routes;
            }

            var table = await Client.TableAsync(ct);
            Interlocked.Increment(ref tablesRead);
            readBack = table.Version == status.TableVersion ? new ReadBack(status.Pid, table.Version, table.Routes) : null;
            return table.Routes;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            // Unknown is not verified: nothing is read back while the router is away.
            return [];
        }
    }

    public Task<Core.Analysis.MetricValue> MeasureAsync(MeasureRequest request, CancellationToken ct) => Client.MeasureAsync(request, ct);

    public Task<string> TextAsync(TimeSpan window, CancellationToken ct) => Client.TextAsync(window, ct);

    private async Task<RouterStatus?> StatusAsync(CancellationToken ct)
    {
        try
        {
            return await Client.StatusAsync(ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>Starts the router detached (it outlives this process) and waits until its admin API answers.</summary>
    private async Task<RouterStatus> LaunchAsync(CancellationToken ct)
    {
        var info = DetachedProcess.Info(launch.FileName, launch.Arguments, files.LogFile);
        using var process = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("the router process did not start");
        var begun = time.GetTimestamp();
        while (time.GetElapsedTime(begun) < StartTimeout)
        {
            if (files.LivePid() == process.Id && await StatusAsync(ct) is { } status)
            {
                Pid = process.Id;
                return status;
            }

            if (process.HasExited)
            {
                throw new InvalidOperationException($"the router process exited with code {process.ExitCode}: {Tail(files.LogFile)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), time, ct);
        }

        throw new InvalidOperationException($"the router process did not answer within {StartTimeout.TotalSeconds:0} s: {Tail(files.LogFile)}");
    }

    /// <summary>
    /// Is the router in the pid file alive? Looked at the moment the router's process ends (told by its pidfd) and
    /// otherwise every <see cref="SpareCheck"/>; every 100 ms while no router is known to be alive (a spare taking
    /// over) or where the system cannot tell a process's end. A successor after an upgrade is simply followed; the
    /// spare that took over from a router that died, or a router this watch starts again when no spare does, is given
    /// the last table this control plane applied if it serves an older one, and recorded.
    /// </summary>
    private async Task WatchAsync(CancellationToken ct)
    {
        var alive = true;
        using var end = new RouterEnd();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (alive && Pid is { } watched && end.Of(watched) is { } ended)
                {
                    await Task.WhenAny(ended, Task.Delay(SpareCheck, time, ct));
                    ct.ThrowIfCancellationRequested();
                    if (ended.IsCompleted)
                    {
                        lastAlive = time.GetTimestamp(); // it was alive until now: the gap is measured from its end
                    }
                }
                else
                {
                    await Task.Delay(Watch, time, ct);
                }

                alive = false;
                if (files.LivePid() is { } pid)
                {
                    alive = true;
                    if (pid != Pid && await StatusAsync(ct) is { FromSpare: true } took && took.Pid == pid)
                    {
                        await RestoredAsync(Pid, took, ct);
                    }

                    Pid = pid;
                    lastAlive = time.GetTimestamp();
                    if (time.GetElapsedTime(spareChecked) >= SpareCheck)
                    {
                        await StartSpareAsync(replace: false, ct);
                    }

                    continue;
                }

                if (launch.SpareArguments is not null && files.LiveSparePid() is not null && time.GetElapsedTime(lastAlive) < SpareGrace)
                {
                    // The spare is taking over.
                    continue;
                }

                await RestoredAsync(Pid, await LaunchAsync(ct), ct);
                lastAlive = time.GetTimestamp();
                alive = true;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException or System.ComponentModel.Win32Exception)
            {
                LogRestartFailed(log, ex);
            }
        }
    }

    /// <summary>A router serves again after <paramref name="old"/> died: the last table back if it has an older one, the gap recorded, a new spare started.</summary>
    private async Task RestoredAsync(int? old, RouterStatus status, CancellationToken ct)
    {
        Pid = status.Pid;
        await applying.WaitAsync(ct);
        try
        {
            if (status.TableVersion < applied.Version)
            {
                await Client.ApplyAsync(applied, ct);
            }
        }
        finally
        {
            applying.Release();
        }

        // The spare measures its own gap from the old router's end; otherwise from the last look that found the old
        // router alive (at most one watch period more than the gap).
        var gap = status.TookOverAfter ?? time.GetElapsedTime(lastAlive);
        Restarts++;
        LogRestarted(log, old, status.Pid, gap.TotalMilliseconds, status.FromSpare ? "its spare" : "a new process");
        await audit.RecordAsync(AuditEntries.RouterRestarted(old, status.Pid, gap, Math.Max(status.TableVersion, applied.Version)), time.GetUtcNow(), AuditContext.System, ct);
        await StartSpareAsync(replace: false, ct);
    }

    /// <summary>Starts a spare when none waits (or, with <paramref name="replace"/>, in place of one of another version).</summary>
    private async Task StartSpareAsync(bool replace, CancellationToken ct)
    {
        spareChecked = time.GetTimestamp();
        if (launch.SpareArguments is not { } arguments || (files.LiveSparePid() is not null && !replace))
        {
            return;
        }

        await RouterSpare.StopAsync(files, time, ct);
        using var spare = System.Diagnostics.Process.Start(DetachedProcess.Info(launch.FileName, arguments, files.LogFile));
        LogSpare(log, spare?.Id);
    }

    private static string Tail(string logFile)
    {
        try
        {
            return string.Join(" | ", File.ReadLines(logFile).TakeLast(3));
        }
        catch (IOException)
        {
            return "no log";
        }
    }

    /// <summary>Stops watching; the router keeps serving (it belongs to the host, not to this control plane).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync();
        if (watching is not null)
        {
            await watching;
        }

        client?.Dispose();
        stopping.Dispose();
        applying.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "router process pid {Pid} found serving table version {Version}")]
    private static partial void LogFound(ILogger logger, int pid, long version);

    [LoggerMessage(Level = LogLevel.Information, Message = "router of version {Old} upgraded to {New}: pid {Pid} serves ({Error})")]
    private static partial void LogUpgraded(ILogger logger, string old, string @new, int? pid, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "router process pid {Pid} started, serving table version {Version}")]
    private static partial void LogStarted(ILogger logger, int pid, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "router process {OldPid} died; pid {Pid} ({Who}) serves again after {GapMs} ms")]
    private static partial void LogRestarted(ILogger logger, int? oldPid, int pid, double gapMs, string who);

    [LoggerMessage(Level = LogLevel.Information, Message = "spare router pid {Pid} started")]
    private static partial void LogSpare(ILogger logger, int? pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "router process could not be started again")]
    private static partial void LogRestartFailed(ILogger logger, Exception ex);
}
