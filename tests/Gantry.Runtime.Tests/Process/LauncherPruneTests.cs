using System.Collections.Concurrent;
using System.Diagnostics;
using Gantry.Core.Manifest;
using Gantry.Core.Runtime;
using Gantry.Runtime.Process;
using Gantry.Testing;

namespace Gantry.Runtime.Tests.Process;

/// <summary>
/// Pruning what a launcher keeps of stopped sets (a container engine's containers) waits for every instance of the
/// set to have gone, those scaled away before it stopped included: a container pruned while it still takes its stop
/// timeout is killed before it.
/// </summary>
public sealed class LauncherPruneTests
{
    private const int Timeout = 60_000;
    private static readonly string ShopFolder = RepoPaths.Combine("examples", "shop");

    [Fact(Timeout = Timeout)]
    public async Task ASetStopping_WhileItsInstanceScaledAwayStillStops_IsPrunedOnlyOnceThatInstanceHasGone()
    {
        var launcher = new LocalLauncher();
        await using var runtime = new ProcessRuntime(TimeProvider.System, launcher: launcher);
        var shop = ManifestLoader.LoadFile(Path.Combine(ShopFolder, "gantry.yaml")).Manifest!.FindService("shop")!;
        var spec = shop with { Runtime = new ProcessSpec("unused", [], [], null, TimeSpan.FromSeconds(3)), Health = HealthSpec.None };
        InstanceSetSpec Of(int replicas) => new(spec, "test", "v1", replicas, ShopFolder, new Dictionary<string, string>());

        await runtime.EnsureAsync(Of(2), CancellationToken.None);
        await Wait.UntilAsync(async () => { await Task.Yield(); return runtime.Observe().Count(i => i.ProcessId is not null) == 2; }, TimeSpan.FromSeconds(20), "two launched instances");
        var leaving = launcher.Pids[1];

        // Its shell must have set its trap first: a SIGTERM that came before would end it at once.
        await SignalMask.IgnoringSigtermAsync(leaving.Pid);

        // Index 1 (it ignores SIGTERM) leaves in a scale-down and takes its 3 s stop timeout; the set then stops, and
        // its instance 0 goes at once.
        (await runtime.EnsureAsync(Of(1), CancellationToken.None)).Should().ContainSingle().Which.Index.Should().Be(0);
        var watch = Stopwatch.StartNew();
        await runtime.StopAsync(Of(1).SetId, CancellationToken.None);

        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(2.5), "the set has gone only once its instance scaled away has too");
        launcher.Prunes.Should().ContainSingle("the set's stop prunes once");
        launcher.Prunes.Single().LeavingRan.Should().BeFalse("the instance still taking its stop timeout is not pruned under it");
        IsRunning(leaving).Should().BeFalse("killed at its stop timeout");
    }

    private static bool IsRunning((int Pid, long StartTime) process) => ProcessStat.IsRunning(process.Pid, process.StartTime);

    /// <summary>Starts instances as local processes of their own session; index 1 ignores SIGTERM. Records each prune and whether index 1 still ran then.</summary>
    private sealed class LocalLauncher : IInstanceLauncher
    {
        public ConcurrentDictionary<int, (int Pid, long StartTime)> Pids { get; } = new();

        public ConcurrentQueue<(DateTimeOffset At, bool LeavingRan)> Prunes { get; } = new();

        public string Kind => "local";

        public Task<LaunchedProcess> LaunchAsync(InstanceLaunch launch, CancellationToken ct)
        {
            var script = launch.Index == 1 ? "trap '' TERM; while true; do sleep 0.1; done" : "exec sleep 600";
            var process = System.Diagnostics.Process.Start(new ProcessStartInfo("/usr/bin/setsid", ["/bin/sh", "-c", script]))!;
            var started = (process.Id, ProcessStat.StartTime(process.Id) ?? 0);
            Pids[launch.Index] = started;
            return Task.FromResult(new LaunchedProcess(started.Id, started.Item2));
        }

        public Task StoppedAsync(InstanceSetSpec spec, string instanceId, CancellationToken ct) => Task.CompletedTask;

        public bool KeepsRunning(InstanceSetSpec spec) => false;

        public Task<IReadOnlyList<RetainedInstance>> RetainedAsync(InstanceSetSpec spec, CancellationToken ct) => Task.FromResult<IReadOnlyList<RetainedInstance>>([]);

        public Task PruneAsync(InstanceSetSpec spec, IReadOnlySet<InstanceSetId> live, CancellationToken ct)
        {
            Prunes.Enqueue((DateTimeOffset.UtcNow, Pids.TryGetValue(1, out var leaving) && IsRunning(leaving)));
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<string>> LogsAsync(string instanceId, CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([]);

        public Task<string> ExitOfAsync(string instanceId, CancellationToken ct) => Task.FromResult("exited");

        public Task<InstanceUsage?> UsageAsync(string instanceId, CancellationToken ct) => Task.FromResult<InstanceUsage?>(null);
    }
}
