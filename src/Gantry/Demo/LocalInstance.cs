using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Gantry.Core.Manifest;

namespace Gantry.Demo;

/// <summary>
/// One instance of a service version, run as a local process from the manifest's process spec with
/// its placeholders filled in. Stopped gracefully: SIGTERM, wait stopTimeout, then kill the tree.
/// </summary>
internal sealed partial class LocalInstance : IAsyncDisposable
{
    private readonly Process process;
    private readonly TimeSpan stopTimeout;

    private LocalInstance(Process process, int port, TimeSpan stopTimeout)
    {
        this.process = process;
        this.stopTimeout = stopTimeout;
        Port = port;
    }

    public int Port { get; }

    public bool HasExited => process.HasExited;

    public static LocalInstance Start(ServiceSpec service, string manifestFolder, string version, string environment, int index, IReadOnlyDictionary<string, string> extraEnv)
    {
        var port = FreeLoopbackPort();
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["version"] = version,
            ["port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["service"] = service.Name,
            ["environment"] = environment,
            ["instance"] = $"{service.Name}-{version}-{index}",
        };
        var spec = service.Process;
        var workingDir = Path.GetFullPath(Path.Combine(manifestFolder, Placeholders.Expand(spec.WorkingDir ?? ".", values)));
        var info = new ProcessStartInfo(Placeholders.Expand(spec.Command, values))
        {
            WorkingDirectory = workingDir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in spec.Args)
        {
            info.ArgumentList.Add(Placeholders.Expand(arg, values));
        }

        foreach (var (key, value) in spec.Env)
        {
            info.Environment[key] = Placeholders.Expand(value, values);
        }

        foreach (var (key, value) in extraEnv)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new LocalInstance(process, port, spec.StopTimeout);
    }

    /// <summary>Polls the readiness probe until it passes; false when the process exits or time runs out.</summary>
    public async Task<bool> WaitUntilReadyAsync(HttpClient client, ProbeSpec? probe, TimeSpan limit, TimeProvider time, CancellationToken ct)
    {
        var path = probe?.Path ?? "/";
        var interval = TimeSpan.FromMilliseconds(Math.Min((probe?.Interval ?? TimeSpan.FromSeconds(1)).TotalMilliseconds, 250));
        var started = time.GetTimestamp();
        while (time.GetElapsedTime(started) < limit && !process.HasExited)
        {
            try
            {
                using var probeTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                probeTimeout.CancelAfter(probe?.Timeout ?? TimeSpan.FromSeconds(1));
                using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{Port}{path}"), probeTimeout.Token);
                if ((int)response.StatusCode is >= 200 and < 400)
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                // Not listening yet, or too slow to answer: try again.
            }

            await Task.Delay(interval, time, ct);
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            _ = Kill(process.Id, SigTerm);
            using var wait = new CancellationTokenSource(stopTimeout);
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        process.Dispose();
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
