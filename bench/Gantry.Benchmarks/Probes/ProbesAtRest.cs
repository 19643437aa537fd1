using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gantry.Runtime.Probes;

namespace Gantry.Benchmarks.Probes;

/// <summary>
/// The control plane at rest as far as probes go: N real instances (<c>python3 -m http.server</c>, a connection per
/// probe), each readiness-probed every 2 s on the shared grid (<see cref="ProbeSchedule"/>) with a 1 s timeout, as an
/// instance's supervisor probes it, for a fixed time. CPU of this process per probe and as a share of one core, with
/// the exchange made by the <see cref="ProbeLoop"/> against the runtime's asynchronous sockets (the probe before it,
/// the peer), in alternating rounds of the same run. The thread pool does not spin, as in <c>gantry server</c>.
/// Run: dotnet run -c Release --project bench/Gantry.Benchmarks -- probes-at-rest [INSTANCES] [SECONDS] [ROUNDS]
/// </summary>
public static class ProbesAtRest
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(int instances, int seconds, int rounds)
    {
        var dir = Directory.CreateTempSubdirectory("gantry-probes-at-rest-");
        await File.WriteAllTextAsync(Path.Combine(dir.FullName, "index.html"), "ok");
        var servers = new List<Process>();
        try
        {
            var ports = new List<int>();
            for (var i = 0; i < instances; i++)
            {
                var port = FreePort();
                ports.Add(port);
                servers.Add(Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-m", "http.server", $"{port}", "--bind", "127.0.0.1", "--directory", dir.FullName])
                {
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                })!);
            }

            var loop = ProbeLoop.Shared ?? throw new InvalidOperationException("the probe loop cannot run on this system");
            var onLoop = ports.Select(p => new HttpProbe("127.0.0.1", p, "/", loop)).ToList();
            var onSockets = ports.Select(p => new HttpProbe("127.0.0.1", p, "/", null)).ToList();
            await UntilAllPassAsync(onLoop);
            var (loopRuns, socketRuns) = (new List<Run>(), new List<Run>());
            for (var round = 0; round < rounds; round++)
            {
                loopRuns.Add(await MeasureAsync(onLoop, seconds));
                socketRuns.Add(await MeasureAsync(onSockets, seconds));
            }

            Console.WriteLine($"probes at rest: {instances} instances of python3 -m http.server, each probed every {Interval.TotalSeconds:0} s on the grid, {rounds} alternating rounds of {seconds} s");
            Console.WriteLine();
            Console.WriteLine("| probe | probes | failed | CPU per probe (median) | share of one core (median) |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            Print("probe loop (one thread, poll)", loopRuns);
            Print("asynchronous sockets (peer)", socketRuns);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nratio loop / sockets, CPU per probe: {Median(loopRuns, r => r.CpuPerProbe) / Median(socketRuns, r => r.CpuPerProbe):0.00}x"));
            return 0;
        }
        finally
        {
            foreach (var server in servers)
            {
                server.Kill();
                server.Dispose();
            }

            dir.Delete(recursive: true);
        }
    }

    private sealed record Run(long Probes, long Failed, double CpuPerProbe, double Share);

    private static void Print(string name, List<Run> runs) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {runs.Sum(r => r.Probes)} | {runs.Sum(r => r.Failed)} | {Median(runs, r => r.CpuPerProbe):0.0} us | {Median(runs, r => r.Share):0.00}% |"));

    private static double Median(List<Run> runs, Func<Run, double> of) => runs.Select(of).Order().ElementAt(runs.Count / 2);

    /// <summary>Every probe on its own supervisor-like loop for one warm-up interval and then <paramref name="seconds"/> measured.</summary>
    private static async Task<Run> MeasureAsync(List<HttpProbe> probes, int seconds)
    {
        var time = TimeProvider.System;
        long done = 0, failed = 0;
        var measuring = false;
        using var stop = new CancellationTokenSource(Interval + TimeSpan.FromSeconds(seconds));
        var warm = Task.Delay(Interval);
        // Instances start at different moments: each one's first probe at its own offset within the interval.
        var offsets = new Random(17);
        var supervisors = probes.Select(probe => (probe, first: time.GetTimestamp() + (long)(offsets.NextDouble() * Interval.TotalSeconds * time.TimestampFrequency))).ToList().Select(s => Task.Run(async () =>
        {
            var (probe, next) = s;
            while (!stop.IsCancellationRequested)
            {
                var started = Math.Max(next, time.GetTimestamp());
                bool passed;
                try
                {
                    passed = await probe.PassesAtAsync(next, TimeSpan.FromSeconds(1), time, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                next = ProbeSchedule.Next(started, Interval, time.TimestampFrequency);
                if (Volatile.Read(ref measuring))
                {
                    _ = Interlocked.Increment(ref done);
                    _ = passed ? 0 : Interlocked.Increment(ref failed);
                }
            }
        })).ToList();
        await warm;
        var self = Process.GetCurrentProcess();
        self.Refresh();
        var cpu = self.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        Volatile.Write(ref measuring, true);
        await Task.WhenAll(supervisors);
        Volatile.Write(ref measuring, false);
        self.Refresh();
        var used = (self.TotalProcessorTime - cpu).TotalMicroseconds;
        return new Run(done, failed, used / Math.Max(1, done), 100 * used / wall.Elapsed.TotalMicroseconds);
    }

    private static async Task UntilAllPassAsync(List<HttpProbe> probes)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var probe in probes)
        {
            while (true)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                try
                {
                    if (await probe.PassesAsync(timeout.Token))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException)
                {
                    // not answering yet
                }

                if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException("the instances did not start answering within 30 s");
                }

                await Task.Delay(50);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
