using Gantry.Core.Runtime;
using Gantry.Proxy.Hosting;

namespace Gantry.Proxy.Control;

/// <summary>
/// <c>gantry router --data DIR</c>: the data plane of one host as a process of its own. It serves the last table
/// in force at once (from <see cref="RouterFiles.StateFile"/>), takes new tables over its admin API, and keeps
/// serving whatever happens to the control plane. On a handover it starts its successor with the listening sockets,
/// waits until the successor serves, stops accepting and finishes the requests in progress.
/// </summary>
public sealed class RouterHost(RouterFiles files, TimeProvider time, TextWriter output, TextWriter error)
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SuccessorStart = TimeSpan.FromSeconds(20);
    private readonly TaskCompletionSource handedOver = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Router? router;

    public async Task<int> RunAsync(CancellationToken ct, long? endedAt = null)
    {
        var takingOver = Environment.GetEnvironmentVariable(ListenerSockets.InheritedVariable) is not null;
        if (!takingOver && files.LivePid() is { } other && other != Environment.ProcessId)
        {
            await error.WriteLineAsync($"gantry: a router (pid {other}) already serves {files.DataDirectory}; 'gantry router --data {files.DataDirectory} --upgrade' replaces it");
            return 1;
        }

        // The last table is read while the router and the server behind its listeners are made: on two cores the two
        // halves of a start overlap, and a router that died serves again sooner.
        var saved = Task.Run(() => RouterControl.ReadSavedAsync(files.StateFile, ct), ct);
        var token = files.EnsureToken();
        await using var served = new Router(time, ListenerSockets.FromEnvironment(), prepareListeners: true);
        router = served;
        using var control = new RouterControl(served, files.StateFile);
        var restored = await control.RestoreAsync(await saved, ct);
        if (!restored.Applied)
        {
            await error.WriteLineAsync($"gantry router: the last table could not be served again ({restored.Error}); waiting for a new one");
        }

        // A spare taking over: from its predecessor's end until the last table is served again.
        TimeSpan? tookOverAfter = endedAt is { } ended ? time.GetElapsedTime(ended) : null;
        await using var admin = await RouterAdmin.StartAsync(control, files, token, HandOverAsync, time, ct, tookOverAfter: tookOverAfter);
        files.WritePid(Environment.ProcessId);
        await output.WriteLineAsync($"gantry router: pid {Environment.ProcessId}, table version {control.Current.Version} ({control.Current.Routes.Count} route(s)){(takingOver ? ", taken over from its predecessor" : string.Empty)}; admin on unix:{files.Socket}");
        try
        {
            await handedOver.Task.WaitAsync(ct);
            await output.WriteLineAsync("gantry router: handed over; finishing the requests in progress");
        }
        catch (OperationCanceledException)
        {
            await output.WriteLineAsync("gantry router: stopping");
        }

        await served.StopListeningAsync(Drain);
        if (files.LivePid() == Environment.ProcessId)
        {
            File.Delete(files.PidFile);
        }

        return 0;
    }

    /// <summary>Starts the successor with the listening sockets and waits until it serves (its pid in the pid file).</summary>
    private async Task<HandoverAnswer> HandOverAsync(HandoverRequest request, CancellationToken ct)
    {
        if (router is null || handedOver.Task.IsCompleted)
        {
            return new HandoverAnswer(false, null, "this router is already handing over");
        }

        var info = DetachedProcess.Info(request.FileName, request.Arguments, files.LogFile);
        info.Environment[ListenerSockets.InheritedVariable] = router.Sockets.ShareWithSuccessor();
        using var successor = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("the successor did not start");
        var started = time.GetTimestamp();
        while (time.GetElapsedTime(started) < SuccessorStart)
        {
            if (files.LivePid() == successor.Id)
            {
                // Answer first; then stop accepting (the successor accepts from the same sockets meanwhile).
                _ = Task.Run(async () =>
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), time, CancellationToken.None);
                    handedOver.TrySetResult();
                }, CancellationToken.None);
                return new HandoverAnswer(true, successor.Id, null);
            }

            if (successor.HasExited)
            {
                router.Sockets.KeepToSelf();
                return new HandoverAnswer(false, null, $"the new router exited with code {successor.ExitCode} before serving; see {files.LogFile}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time, ct);
        }

        router.Sockets.KeepToSelf();
        return new HandoverAnswer(false, null, $"the new router did not serve within {SuccessorStart.TotalSeconds:0} s; see {files.LogFile}");
    }
}
