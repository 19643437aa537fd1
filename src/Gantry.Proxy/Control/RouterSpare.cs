using System.Net;
using System.Net.Sockets;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Traffic;
using Gantry.Proxy.Hosting;

namespace Gantry.Proxy.Control;

/// <summary>
/// <c>gantry router --data DIR --spare</c>: a router started ahead of need. It loads and warms everything a router
/// runs (a listener, a forwarded request, the admin API, each on scratch addresses), then waits on the serving router's
/// pidfd; when that router ends, by a crash or a kill, the spare serves the last table at once, without the half second
/// of CPU a fresh process needs before its first request (several seconds on a loaded machine). One spare per data
/// directory (it holds <see cref="RouterFiles.SpareLockFile"/>); <c>gantry server</c> keeps one and starts the next.
/// </summary>
public sealed class RouterSpare(RouterFiles files, TimeProvider time, TextWriter output, TextWriter error)
{
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var token = files.EnsureToken();
        FileStream held;
        try
        {
            held = new FileStream(files.SpareLockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var other = files.LiveSparePid() is { } pid ? $"a spare (pid {pid})" : "a spare";
            await output.WriteLineAsync($"gantry router: {other} already waits for the router of {files.DataDirectory}");
            return 0;
        }

        using (held)
        {
            try
            {
                // Known from the start, so that 'gantry down' stops a spare still warming up (it would take over later).
                files.WriteSparePid(Environment.ProcessId);
                await WarmUpAsync(token, ct);
                // What the warm-up allocated goes back to the system before the long wait.
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                await output.WriteLineAsync($"gantry router: spare pid {Environment.ProcessId} ready to serve {files.DataDirectory} when its router ends");
                while (files.LivePid() is { } serving)
                {
                    await ProcessEnd.WaitAsync(serving, time, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await output.WriteLineAsync($"gantry router: spare pid {Environment.ProcessId} stopping");
                return 0;
            }
            catch (DirectoryNotFoundException)
            {
                // The data directory was removed under it: nothing to serve for.
                return 0;
            }
            finally
            {
                if (files.LiveSparePid() == Environment.ProcessId)
                {
                    File.Delete(files.SparePidFile);
                }
            }
        }

        if (!Directory.Exists(files.Folder))
        {
            // The data directory was removed: nothing to serve for.
            return 0;
        }

        var ended = time.GetTimestamp();
        await output.WriteLineAsync($"gantry router: the router of {files.DataDirectory} ended; spare pid {Environment.ProcessId} takes over");
        return await new RouterHost(files, time, output, error).RunAsync(ct, endedAt: ended);
    }

    /// <summary>One request through a listener to a backend that refuses, and the admin API's reads, on scratch addresses.</summary>
    private async Task WarmUpAsync(string token, CancellationToken ct)
    {
        var scratch = Directory.CreateTempSubdirectory("gantry-spare-");
        try
        {
            await using var router = new Router(time);
            using var control = new RouterControl(router);
            var listen = new Endpoint("127.0.0.1", FreePort());
            var route = new TrafficRoute("warm-up", listen, [new TrafficBackend("warm-up", 1, [new Endpoint("127.0.0.1", FreePort())])], [], null, null, TimeSpan.Zero);
            var applied = await control.ApplyAsync(new RouteTable(1, [route]), ct);
            var scratchFiles = new RouterFiles(scratch.FullName);
            scratchFiles.EnsureToken();
            await using var admin = await RouterAdmin.StartAsync(control, scratchFiles, token,
                (_, _) => Task.FromResult(new HandoverAnswer(false, null, "a spare warming up")), time, ct);
            using (var client = new RouterAdminClient(scratchFiles, token))
            {
                await client.StatusAsync(ct);
                await client.TableAsync(ct);
            }

            if (applied.Applied)
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                using var answer = await http.GetAsync(new Uri($"http://127.0.0.1:{listen.Port}/"), ct);
            }

            await admin.StopAsync(ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is HttpRequestException or IOException or InvalidOperationException or TaskCanceledException)
        {
            // A spare that could not warm up still takes over, only more slowly.
            await error.WriteLineAsync($"gantry router: spare warm-up: {ex.Message}");
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>Stops the waiting spare, if any (SIGTERM: it exits without taking over), and waits up to 10 s until it has gone.</summary>
    public static async Task<int?> StopAsync(RouterFiles files, TimeProvider time, CancellationToken ct)
    {
        if (files.LiveSparePid() is not { } spare)
        {
            return null;
        }

        _ = ProcessEnd.Terminate(spare);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await ProcessEnd.WaitAsync(spare, time, limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Still there after 10 s: it waits on nothing that matters; the next spare will find the lock taken and leave.
        }

        return spare;
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
