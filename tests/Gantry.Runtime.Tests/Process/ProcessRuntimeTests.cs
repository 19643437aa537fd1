using System.Diagnostics;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Runtime;
using Gantry.Runtime.Process;
using Gantry.Testing;

namespace Gantry.Runtime.Tests.Process;

/// <summary>The process runtime with real instances of the sample service, from the example manifest.</summary>
public sealed class ProcessRuntimeTests : IAsyncLifetime
{
    private const int Timeout = 90_000;
    private static readonly string ShopFolder = RepoPaths.Combine("examples", "shop");
    private readonly ProcessRuntime runtime = new(TimeProvider.System);
    private readonly HttpClient client = new() { Timeout = TimeSpan.FromSeconds(10) };

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await runtime.DisposeAsync();
        client.Dispose();
    }

    private static ServiceSpec Shop => ManifestLoader.LoadFile(Path.Combine(ShopFolder, "gantry.yaml")).Manifest!.FindService("shop")!;

    private static InstanceSetSpec Set(string version, int replicas, params (string Key, string Value)[] env) =>
        new(Shop, "test", version, replicas, ShopFolder, env.ToDictionary(e => e.Key, e => e.Value));

    private async Task<IReadOnlyList<InstanceStatus>> WaitForAsync(Func<IReadOnlyList<InstanceStatus>, bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(45))
        {
            var observed = runtime.Observe();
            if (condition(observed))
            {
                return observed;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{what}; last seen: {string.Join("; ", runtime.Observe())}");
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [Fact(Timeout = Timeout)]
    public async Task EnsureAsync_TwoReplicas_BecomeReadyOnTheirOwnPortsWithTheirVersion()
    {
        await runtime.EnsureAsync(Set("v1", 2), CancellationToken.None);

        var ready = await WaitForAsync(s => s.Count == 2 && s.All(i => i.Phase == InstancePhase.Ready), "two ready instances");

        ready.Select(i => i.Address.Port).Distinct().Should().HaveCount(2);
        foreach (var instance in ready)
        {
            (await client.GetStringAsync(new Uri($"http://{instance.Address}/version"))).Trim().Should().Be("v1");
        }
    }

    [Fact(Timeout = Timeout)]
    public async Task ObserveOneTarget_AnswersItsRunningAndUnclaimedInstances_AsObservingAllAndFilteringWould()
    {
        // Instances a previous server left (unclaimed until a rollout claims them) in two targets, and one running set.
        var left = new[]
        {
            new AdoptionRecord("shop-test-old-0", "shop", "test", "old", "old", 0, 41001, 999_991, 1, 0),
            new AdoptionRecord("shop-prod-v1-0", "shop", "prod", "v1", "v1", 0, 41002, 999_992, 1, 0),
            new AdoptionRecord("cart-test-v1-0", "cart", "test", "v1", "v1", 0, 41003, 999_993, 1, 0),
        };
        await using var runtime = new ProcessRuntime(TimeProvider.System, adoptable: left);
        await runtime.EnsureAsync(Set("v1", 1), CancellationToken.None);
        var watch = Stopwatch.StartNew();
        while (!runtime.Observe().Any(i => i.Version == "v1" && i.Phase == InstancePhase.Ready) && watch.Elapsed < TimeSpan.FromSeconds(45))
        {
            // Compared once the started instance has settled: while it starts, its pid and phase change between two looks.
            await Task.Delay(100);
        }

        var all = runtime.Observe();
        all.Should().Contain(i => i.Version == "v1" && i.Phase == InstancePhase.Ready);

        foreach (var target in new[] { new TargetId("shop", "test"), new TargetId("shop", "prod"), new TargetId("cart", "test"), new TargetId("none", "test") })
        {
            ((IRuntime)runtime).Observe(target).Should().BeEquivalentTo(all.Where(i => i.SetId.BelongsTo(target)), $"the instances of {target}");
        }

        ((IRuntime)runtime).Observe(new TargetId("shop", "test")).Select(i => i.Version).Should().BeEquivalentTo(["v1", "old"]);
    }

    [Fact(Timeout = Timeout)]
    public async Task EnsureAsync_SameSetAgain_AdoptsTheRunningProcessesAndScalesDownGracefully()
    {
        await runtime.EnsureAsync(Set("v1", 2), CancellationToken.None);
        var first = await WaitForAsync(s => s.Count == 2 && s.All(i => i.Phase == InstancePhase.Ready), "two ready instances");

        var again = await runtime.EnsureAsync(Set("v1", 2), CancellationToken.None);
        again.Select(i => i.ProcessId).Should().BeEquivalentTo(first.Select(i => i.ProcessId), "ensuring what already runs changes nothing");

        var down = await runtime.EnsureAsync(Set("v1", 1), CancellationToken.None);
        down.Should().ContainSingle().Which.Id.Should().EndWith("-0");
        var removed = first.Single(i => i.Id.EndsWith("-1", StringComparison.Ordinal));
        var watch = Stopwatch.StartNew();
        while (IsRunning(removed.ProcessId!.Value) && watch.Elapsed < Shop.Runtime.StopTimeout)
        {
            await Task.Delay(50);
        }

        IsRunning(removed.ProcessId!.Value).Should().BeFalse("the extra instance was stopped, on SIGTERM, within its stop timeout");
    }

    [Fact(Timeout = Timeout)]
    public async Task EnsureAsync_ReadinessFails_InstanceStaysNotReady()
    {
        await runtime.EnsureAsync(Set("v2", 1, ("READY", "false")), CancellationToken.None);

        await WaitForAsync(s => s.Single().Phase == InstancePhase.NotReady, "a not-ready instance");
        await Task.Delay(3_000);

        runtime.Observe().Single().Phase.Should().Be(InstancePhase.NotReady);
        runtime.Observe().Single().Restarts.Should().Be(0, "failing readiness keeps it out of traffic; it does not restart it");
    }

    [Fact(Timeout = Timeout)]
    public async Task EnsureAsync_InstanceCrashes_IsRestartedOnTheSameAddress()
    {
        await runtime.EnsureAsync(Set("v3", 1, ("CRASH_AFTER_REQUESTS", "3")), CancellationToken.None);
        var before = (await WaitForAsync(s => s.Single().Phase == InstancePhase.Ready, "a ready instance")).Single();

        for (var i = 0; i < 3; i++)
        {
            await client.GetStringAsync(new Uri($"http://{before.Address}/"));
        }

        var after = (await WaitForAsync(s => s.Single().Restarts >= 1 && s.Single().Phase == InstancePhase.Ready, "a restarted, ready instance")).Single();
        after.Address.Should().Be(before.Address);
        after.ProcessId.Should().NotBe(before.ProcessId);
        after.LastError.Should().Be("exited with code 70");
    }

    [Fact(Timeout = Timeout)]
    public async Task StopAsync_ProcessIgnoresSigterm_IsKilledAfterStopTimeout()
    {
        var stubborn = Shop with
        {
            Runtime = new ProcessSpec("sh", ["-c", "trap '' TERM; echo started {version} on {port}; while true; do sleep 0.1; done"], [], null, TimeSpan.FromMilliseconds(500)),
            Health = HealthSpec.None,
        };
        await runtime.EnsureAsync(new InstanceSetSpec(stubborn, "test", "v9", 1, ShopFolder, new Dictionary<string, string>()), CancellationToken.None);
        var running = (await WaitForAsync(s => s.Single() is { Phase: InstancePhase.Ready, ProcessId: not null }, "a running process")).Single();
        var deadline = Stopwatch.StartNew();
        while ((await runtime.LogsAsync(running.Id, CancellationToken.None)).Count == 0 && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(50);
        }

        (await runtime.LogsAsync(running.Id, CancellationToken.None)).Should().Equal($"started v9 on {running.Address.Port}");

        var watch = Stopwatch.StartNew();
        await runtime.StopAsync(running.SetId, CancellationToken.None);

        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(450), "SIGTERM is tried first, for stopTimeout");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
        IsRunning(running.ProcessId!.Value).Should().BeFalse();
        runtime.Observe().Should().BeEmpty();
    }

    /// <summary>
    /// An instance that answers a moment after it starts, probed for readiness every 5 s: its first probe fails, and the
    /// next ones come sooner than the interval while it has never passed, so it is ready within moments of answering,
    /// not 5 s after its start. Once ready it is probed on the interval.
    /// </summary>
    [Fact(Timeout = Timeout)]
    public async Task AFreshInstance_IsSeenReadySoonAfterItAnswers_NotAnIntervalAfterItsFirstFailedProbe()
    {
        var service = ManifestLoader.LoadText("""
            version: 1
            services:
              late:
                process: { command: sh, args: [-c, "sleep 0.4; exec python3 -m http.server {port} --bind 127.0.0.1"] }
                listen: 127.0.0.1:1
                health:
                  readiness: { path: /, interval: 5s }
            """).Manifest!.FindService("late")!;
        var watch = Stopwatch.StartNew();
        await runtime.EnsureAsync(new InstanceSetSpec(service, "test", "v1", 1, ShopFolder, new Dictionary<string, string>()), CancellationToken.None);
        await WaitForAsync(s => s.Any(i => i.Phase == InstancePhase.Ready), "the instance ready");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3), "it answers about 0.5 s after its start; its first probe, at its start, failed");
    }

    /// <summary>A service whose process ignores SIGTERM, given <paramref name="stopTimeout"/> to go; no probes.</summary>
    private static ServiceSpec Stubborn(TimeSpan stopTimeout) => Shop with
    {
        Runtime = new ProcessSpec("sh", ["-c", "trap '' TERM; while true; do sleep 0.1; done"], [], null, stopTimeout),
        Health = HealthSpec.None,
    };

    /// <summary>A set of one process that ignores SIGTERM for the given stop timeout, running and ready.</summary>
    private async Task<InstanceStatus> StubbornAsync(string version, TimeSpan stopTimeout)
    {
        await runtime.EnsureAsync(new InstanceSetSpec(Stubborn(stopTimeout), "stubborn", version, 1, ShopFolder, new Dictionary<string, string>()), CancellationToken.None);
        var running = (await WaitForAsync(s => s.Any(i => i is { Version: var v, Phase: InstancePhase.Ready, ProcessId: not null } && v == version), "a running process")).Single(i => i.Version == version);
        await SignalMask.IgnoringSigtermAsync(running.ProcessId!.Value);
        return running;
    }

    [Fact(Timeout = Timeout)]
    public async Task StopAsync_ProcessSlowToStop_HoldsUpNoOtherSet()
    {
        var slow = await StubbornAsync("v1", TimeSpan.FromSeconds(3));
        var stop = runtime.StopAsync(slow.SetId, CancellationToken.None);

        // While it takes its stop timeout, the runtime answers and starts other sets at once.
        var watch = Stopwatch.StartNew();
        runtime.Observe().Should().NotContain(i => i.SetId == slow.SetId, "a set being stopped is out of the runtime's sets at once");
        var other = Shop with { Runtime = new ProcessSpec("sh", ["-c", "while true; do sleep 0.1; done"], [], null, TimeSpan.FromSeconds(1)), Health = HealthSpec.None };
        (await runtime.EnsureAsync(new InstanceSetSpec(other, "other", "v1", 1, ShopFolder, new Dictionary<string, string>()), CancellationToken.None)).Should().ContainSingle();
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1.5), "another set's start does not wait for the slow stop");
        stop.IsCompleted.Should().BeFalse("the slow instance is still given its stop timeout");
        IsRunning(slow.ProcessId!.Value).Should().BeTrue();

        await stop;
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2.5), "StopAsync returns once the instance has gone");
        IsRunning(slow.ProcessId!.Value).Should().BeFalse("killed at its stop timeout");
    }

    [Fact(Timeout = Timeout)]
    public async Task EnsureAsync_ScalingDownAnInstanceSlowToStop_ReturnsAtOnce_AScaleUpMeanwhileTakesTheNextIndex_AndItIsStillKilledAtItsTimeout()
    {
        var stubborn = Stubborn(TimeSpan.FromSeconds(3));
        InstanceSetSpec Of(int replicas) => new(stubborn, "stubborn", "v1", replicas, ShopFolder, new Dictionary<string, string>());
        await runtime.EnsureAsync(Of(2), CancellationToken.None);
        var two = await WaitForAsync(s => s.Count(i => i is { Phase: InstancePhase.Ready, ProcessId: not null }) == 2, "two running processes");
        var leaving = two.Single(i => i.Index == 1).ProcessId!.Value;
        await SignalMask.IgnoringSigtermAsync(leaving);

        // The extra instance leaves the set at once; nobody waits for its stop but the runtime's disposal.
        var watch = Stopwatch.StartNew();
        (await runtime.EnsureAsync(Of(1), CancellationToken.None)).Should().ContainSingle().Which.Index.Should().Be(0);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1.5), "a scale-down does not wait for the instance it takes away");
        IsRunning(leaving).Should().BeTrue("it ignores SIGTERM: it is given its stop timeout");

        // Scaled up again meanwhile (a rollback in the middle of a rolling update): a new instance beside the one
        // still stopping, on the next free index; index 1 stays with the instance that stops.
        (await runtime.EnsureAsync(Of(2), CancellationToken.None)).Select(i => i.Index).Should().BeEquivalentTo([0, 2]);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1.5), "the scale-up does not wait for the stop either");
        IsRunning(leaving).Should().BeTrue();

        await WaitForAsync(s => s.Count(i => i is { Phase: InstancePhase.Ready, ProcessId: not null }) == 2, "both running");
        while (IsRunning(leaving) && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        IsRunning(leaving).Should().BeFalse("killed at its stop timeout");
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2.5), "SIGTERM was tried first, for the stop timeout");

        // Scaled down again: the highest index goes.
        (await runtime.EnsureAsync(Of(1), CancellationToken.None)).Should().ContainSingle().Which.Index.Should().Be(0);
    }

    [Fact(Timeout = Timeout)]
    public async Task EnsureAsync_TheSetStillStopping_StartsItOnceTheOldInstancesHaveGone()
    {
        var slow = await StubbornAsync("v1", TimeSpan.FromSeconds(2));
        var stop = runtime.StopAsync(slow.SetId, CancellationToken.None);

        var watch = Stopwatch.StartNew();
        var again = await StubbornAsync("v1", TimeSpan.FromSeconds(2));
        stop.IsCompleted.Should().BeTrue("the set asked for again started after its old instances had gone");
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.5));
        IsRunning(slow.ProcessId!.Value).Should().BeFalse();
        again.ProcessId.Should().NotBe(slow.ProcessId);
        runtime.Observe().Should().ContainSingle(i => i.SetId == slow.SetId);
    }

    [Fact(Timeout = Timeout)]
    public async Task EnsureAsync_AfterDisposalBegan_StartsNothing_EvenWhileDisposalWaitsForASlowStop()
    {
        var slow = await StubbornAsync("v1", TimeSpan.FromSeconds(2));
        var disposal = runtime.DisposeAsync().AsTask();

        // A scale-down or start still waiting for the runtime (the reconciler's background work at shutdown) comes now.
        var late = () => runtime.EnsureAsync(new InstanceSetSpec(Stubborn(TimeSpan.FromSeconds(2)), "late", "v1", 1, ShopFolder, new Dictionary<string, string>()), CancellationToken.None);
        await late.Should().ThrowAsync<ObjectDisposedException>("a set started now would outlive the runtime's disposal");
        disposal.IsCompleted.Should().BeFalse("the slow instance is still given its stop timeout");

        await disposal;
        IsRunning(slow.ProcessId!.Value).Should().BeFalse();
        runtime.Observe().Should().BeEmpty();
    }

    [Fact(Timeout = Timeout)]
    public async Task EnsureAsync_WithLogDirectory_WritesEachInstancesOutputToItsFile()
    {
        var folder = Directory.CreateTempSubdirectory("gantry-logs-").FullName;
        try
        {
            var chatty = Shop with
            {
                Runtime = new ProcessSpec("sh", ["-c", "echo one {version}; echo two >&2; while true; do sleep 0.1; done"], [], null, TimeSpan.FromSeconds(1)),
                Health = HealthSpec.None,
            };
            await using (var logged = new ProcessRuntime(TimeProvider.System, folder))
            {
                var status = (await logged.EnsureAsync(new InstanceSetSpec(chatty, "test", "v5", 1, ShopFolder, new Dictionary<string, string>()), CancellationToken.None)).Single();
                var watch = Stopwatch.StartNew();
                while ((await logged.LogsAsync(status.Id, CancellationToken.None)).Count < 2 && watch.Elapsed < TimeSpan.FromSeconds(20))
                {
                    await Task.Delay(50);
                }

                (await logged.LogsAsync(status.Id, CancellationToken.None)).Should().BeEquivalentTo("one v5", "two");
            }

            var file = Path.Combine(folder, "shop-test-v5-0.log");
            (await File.ReadAllLinesAsync(file)).Should().BeEquivalentTo("one v5", "two");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact(Timeout = Timeout)]
    public async Task StopAsync_WellBehavedService_ExitsOnSigtermBeforeTheTimeout()
    {
        await runtime.EnsureAsync(Set("v4", 1), CancellationToken.None);
        var ready = (await WaitForAsync(s => s.Single().Phase == InstancePhase.Ready, "a ready instance")).Single();

        var watch = Stopwatch.StartNew();
        await runtime.StopAsync(ready.SetId, CancellationToken.None);

        watch.Elapsed.Should().BeLessThan(Shop.Runtime.StopTimeout, "ASP.NET Core shuts down on SIGTERM");
        IsRunning(ready.ProcessId!.Value).Should().BeFalse();
    }
}
