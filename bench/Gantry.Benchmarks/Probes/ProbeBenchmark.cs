using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gantry.Runtime.Probes;

namespace Gantry.Benchmarks.Probes;

/// <summary>
/// CPU of this process per readiness probe of a real instance (<c>python3 -m http.server</c>, HTTP/1.0, a connection
/// per probe, as bench/scale.sh runs them): Gantry's probe on its own socket against the peer, an
/// <see cref="HttpClient"/> set up as the probe client was (its own handler, no proxy, no redirects), in the same run,
/// in alternating rounds after a warm-up. The goal (issue: a control plane for a thousand services) is under 100 us of
/// CPU per probe. Run: dotnet run -c Release --project bench/Gantry.Benchmarks -- probes [PROBES_PER_ROUND]
/// </summary>
public static class ProbeBenchmark
{
    private const int Rounds = 6;

    public static async Task<int> RunAsync(int perRound)
    {
        var dir = Directory.CreateTempSubdirectory("gantry-probe-bench-");
        await File.WriteAllTextAsync(Path.Combine(dir.FullName, "index.html"), "ok");
        var port = FreePort();
        using var server = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-m", "http.server", $"{port}", "--bind", "127.0.0.1", "--directory", dir.FullName]) { RedirectStandardError = true })!;
        _ = server.StandardError.ReadToEndAsync();
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) });
        var probe = new HttpProbe("127.0.0.1", port, "/");
        var url = new Uri($"http://127.0.0.1:{port}/");
        try
        {
            var ready = Stopwatch.StartNew();
            while (!await probe.PassesAsync(CancellationToken.None) && ready.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }

            Func<Task<bool>> ours = async () => await probe.PassesAsync(CancellationToken.None);
            Func<Task<bool>> peer = async () =>
            {
                using var response = await client.GetAsync(url);
                return (int)response.StatusCode is >= 200 and < 400;
            };
            await MeasureAsync(ours, perRound);
            await MeasureAsync(peer, perRound); // warm-up: both paths compiled and tiered
            var (oursCpu, peerCpu, oursWall, peerWall) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
            for (var round = 0; round < Rounds; round++)
            {
                var (cpu, wall) = await MeasureAsync(ours, perRound);
                oursCpu.Add(cpu);
                oursWall.Add(wall);
                (cpu, wall) = await MeasureAsync(peer, perRound);
                peerCpu.Add(cpu);
                peerWall.Add(wall);
            }

            Console.WriteLine($"probes: {Rounds} rounds of {perRound} probes each way, alternating, against python3 -m http.server on 127.0.0.1:{port}");
            Console.WriteLine();
            Console.WriteLine("| probe | CPU per probe (median of rounds) | wall per probe |");
            Console.WriteLine("|---|---:|---:|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Gantry (socket) | {Median(oursCpu):0.0} us | {Median(oursWall):0.0} us |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| HttpClient (peer) | {Median(peerCpu):0.0} us | {Median(peerWall):0.0} us |"));
            var floor = Floor(port, perRound);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| blocking calls on one thread (this machine's floor for the exchange) | {floor.Cpu:0.0} us | {floor.Wall:0.0} us |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nratio Gantry / HttpClient, CPU per probe: {Median(oursCpu) / Median(peerCpu):0.00}x; Gantry / floor: {Median(oursCpu) / floor.Cpu:0.00}x"));
            return 0;
        }
        finally
        {
            server.Kill();
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The same exchange (connect, the request, the answer read to its end, close) with blocking calls on a thread of
    /// its own: no thread hands work to another, so what it costs is the kernel's share, the least any probe costs here.
    /// </summary>
    private static (double Cpu, double Wall) Floor(int port, int count)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        var request = System.Text.Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        var result = (0.0, 0.0);
        var thread = new Thread(() =>
        {
            var buffer = new byte[4096];
            Func<Task<bool>> once = () =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Connect(endpoint);
                socket.Send(request);
                var total = 0;
                int n;
                while ((n = socket.Receive(buffer)) > 0)
                {
                    total += n;
                }

                return Task.FromResult(total > 12);
            };
            _ = MeasureAsync(once, count).GetAwaiter().GetResult();
            result = MeasureAsync(once, count).GetAwaiter().GetResult();
        });
        thread.Start();
        thread.Join();
        return result;
    }

    /// <summary>CPU of this process and wall time per probe, in microseconds, over <paramref name="count"/> probes one after another.</summary>
    private static async Task<(double Cpu, double Wall)> MeasureAsync(Func<Task<bool>> probe, int count)
    {
        var self = Process.GetCurrentProcess();
        self.Refresh();
        var cpu = self.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            if (!await probe())
            {
                throw new InvalidOperationException("a probe failed: the benchmark's server is not answering");
            }
        }

        self.Refresh();
        return ((self.TotalProcessorTime - cpu).TotalMicroseconds / count, wall.Elapsed.TotalMicroseconds / count);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
