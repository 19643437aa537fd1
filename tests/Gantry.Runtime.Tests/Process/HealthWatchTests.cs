using System.Diagnostics;
using Gantry.Core.Manifest;
using Gantry.Core.Runtime;
using Gantry.Runtime.Process;
using Gantry.Testing;

namespace Gantry.Runtime.Tests.Process;

/// <summary>
/// A process instance whose probes the probe loop repeats on its own while they pass: a readiness probe that starts
/// failing takes it out of Ready only after its failure threshold and brings it back when it passes again; a liveness
/// probe that keeps failing kills it, and it is started again.
/// </summary>
public sealed class HealthWatchTests : IAsyncLifetime
{
    private const string Server = """
        import http.server, os, sys
        class Health(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                failing = os.path.exists(os.path.join(sys.argv[2], self.path.strip("/")))
                self.send_response(503 if failing else 200)
                self.end_headers()
            def log_message(self, *args):
                pass
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
        """;

    private readonly string folder = Directory.CreateTempSubdirectory("gantry-health-").FullName;
    private readonly ProcessRuntime runtime = new(TimeProvider.System);

    public async ValueTask InitializeAsync() => await File.WriteAllTextAsync(Path.Combine(folder, "health.py"), Server);

    public async ValueTask DisposeAsync()
    {
        await runtime.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    private InstanceSetSpec Set(HealthSpec health)
    {
        var service = ManifestLoader.LoadFile(RepoPaths.Combine("examples", "shop", "gantry.yaml")).Manifest!.FindService("shop")! with
        {
            Runtime = new ProcessSpec("python3", [Path.Combine(folder, "health.py"), "{port}", folder], [], null, TimeSpan.FromSeconds(2)),
            Health = health,
        };
        return new InstanceSetSpec(service, "test", "v1", 1, folder, new Dictionary<string, string>());
    }

    private static ProbeSpec Probe(string path, int threshold) => new(path, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), threshold, TimeSpan.Zero);

    private async Task<InstanceStatus> WaitForAsync(Func<InstanceStatus, bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (runtime.Observe().SingleOrDefault() is { } status && condition(status))
            {
                return status;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"{what}; last seen: {string.Join("; ", runtime.Observe())}");
    }

    [Fact(Timeout = 60_000)]
    public async Task Readiness_LeavesReadyAfterItsThreshold_AndComesBackWhenItPasses()
    {
        await runtime.EnsureAsync(Set(new HealthSpec(Probe("/ready", 3), null, null)), TestContext.Current.CancellationToken);
        var ready = await WaitForAsync(s => s.Phase == InstancePhase.Ready, "a ready instance");

        await File.WriteAllTextAsync(Path.Combine(folder, "ready"), "fail", TestContext.Current.CancellationToken);
        var failing = Stopwatch.StartNew();
        await WaitForAsync(s => s.Phase == InstancePhase.NotReady, "a not-ready instance");
        failing.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(350), "three failures in a row, 200 ms apart, before it leaves Ready");

        File.Delete(Path.Combine(folder, "ready"));
        var back = await WaitForAsync(s => s.Phase == InstancePhase.Ready, "ready again");
        back.ProcessId.Should().Be(ready.ProcessId, "readiness never restarts a process");
        back.Restarts.Should().Be(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task Liveness_ThatKeepsFailing_KillsTheProcess_WhichIsStartedAgain()
    {
        // A startup probe holds liveness back until the process listens, however slowly a busy machine starts it.
        var startup = Probe("/ready", 150);
        await runtime.EnsureAsync(Set(new HealthSpec(Probe("/ready", 1), Probe("/live", 2), startup)), TestContext.Current.CancellationToken);
        var first = await WaitForAsync(s => s.Phase == InstancePhase.Ready, "a ready instance");

        await File.WriteAllTextAsync(Path.Combine(folder, "live"), "fail", TestContext.Current.CancellationToken);
        var crashed = await WaitForAsync(s => s.Restarts > first.Restarts || s.Phase == InstancePhase.Crashed, "a killed instance");
        File.Delete(Path.Combine(folder, "live"));

        crashed.LastError.Should().Be("liveness probe /live failed 2 times in a row");
        var again = await WaitForAsync(s => s.Phase == InstancePhase.Ready && s.Restarts == first.Restarts + 1, "started again and ready");
        again.ProcessId.Should().NotBe(first.ProcessId);
    }
}
