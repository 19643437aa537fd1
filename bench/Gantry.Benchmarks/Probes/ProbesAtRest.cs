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
            var (watchRuns, loopRuns, socketRuns) = (new List<Run>(), new List<Run>(), new List<Run>());
            for (var round = 0; round < rounds; round++)
            {
                watchRuns.Add(await MeasureWatchAsync(onLoop, loop, seconds));
                loopRuns.Add(await MeasureAsync(onLoop, seconds));
                socketRuns.Add(await MeasureAsync(onSockets, seconds));
            }

            Console.WriteLine($"probes at rest: {instances} instances of python3 -m http.server, each probed every {Interval.TotalSeconds:0} s on the grid, {rounds} alternating rounds of {seconds} s");
            Console.WriteLine();
            Console.WriteLine("| probe | probes | failed | CPU per probe (median) | share of one core (median) |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            Print("probes repeated by the loop while they pass (WatchAsync)", watchRuns);
            Print("probe loop, each result back to its caller (PassesAtAsync)", loopRuns);
            Print("asynchronous sockets (peer)", socketRuns);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nratio repeated / each back, CPU per probe: {Median(watchRuns, r => r.CpuPerProbe) / Median(loopRuns, r => r.CpuPerProbe):0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio loop / sockets, CPU per probe: {Median(loopRuns, r => r.CpuPerProbe) / Median(socketRuns, r => r.CpuPerProbe):0.00}x"));
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

    /// <summary>
    /// Every probe handed to the loop once, expected to pass, as an instance's supervisor hands it over at rest: the loop
    /// repeats it every interval and nothing comes back while it passes. Probes are counted by the loop.
    /// </summary>
    private static async Task<Run> MeasureWatchAsync(List<HttpProbe> probes, ProbeLoop loop, int seconds)
    {
        var time = TimeProvider.System;
        using var stop = new CancellationTokenSource();
        var offsets = new Random(17);
        var watches = probes.Select(probe => probe.WatchAsync(time.GetTimestamp() + (long)(offsets.NextDouble() * Interval.TotalSeconds * time.TimestampFrequency), Interval, TimeSpan.FromSeconds(1), true, time, stop.Token)).ToList();
        await Task.Delay(Interval);
        var self = Process.GetCurrentProcess();
        self.Refresh();
        var (cpu, made) = (self.TotalProcessorTime, loop.Made);
        var wall = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        self.Refresh();
        var used = (self.TotalProcessorTime - cpu).TotalMicroseconds;
        var done = loop.Made - made;
        var failed = watches.Count(w => w.IsCompletedSuccessfully);
        await stop.CancelAsync();
        foreach (var watch in watches)
        {
            await ((Task)watch).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return new Run(done, failed, used / Math.Max(1, done), 100 * used / wall.Elapsed.TotalMicroseconds);
    }

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
