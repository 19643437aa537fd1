using System.Diagnostics;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Reconciler;

/// <summary>
/// An instance that takes its whole stop timeout to go (it ignores SIGTERM, as an application draining its connections
/// does) holds up only its own service: another service's deploy meanwhile goes through at its usual pace, and the slow
/// instance is still stopped (killed at its timeout).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SlowStopTests
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A small HTTP server answering 200 on every path; <paramref name="ignoresTerm"/>: SIGTERM does nothing to it. Given
    /// ONLY_FIRST_READY (a folder), only the first instance started with it answers 200, every later one 503.
    /// </summary>
    private static string Service(string name, Endpoint listen, bool ignoresTerm, int replicas = 1) => $$"""
          {{name}}:
            process:
              command: /usr/bin/python3
              args: [-c, "{{(ignoresTerm ? "import signal\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\\n" : string.Empty)}}import http.server as h, sys, os\nok = True\nd = os.environ.get('ONLY_FIRST_READY')\nif d:\n  try: os.close(os.open(os.path.join(d, 'first'), os.O_CREAT | os.O_EXCL))\n  except FileExistsError: ok = False\nclass H(h.BaseHTTPRequestHandler):\n  def do_GET(s):\n    s.send_response(200 if ok else 503); s.end_headers(); s.wfile.write(b'ok')\n  def log_message(s, *a): pass\nh.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()", "{port}"]
              stopTimeout: {{(int)StopTimeout.TotalSeconds}}s
            listen: {{listen}}
            replicas: {{replicas}}
            health:
              readiness: { path: /, interval: 200ms }
            strategy:
              rolling: { maxSurge: 1, maxUnavailable: 0 }
        """;

    [Fact(Timeout = 180_000)]
    public async Task AnInstanceSlowToStop_HoldsUpNoOtherService_AndIsStillStopped()
    {
        await using var h = await BothAtV1Async(1);

        var oldSlow = (await InstancesAsync(h)).Single(i => i.Service == "slow").ProcessId!.Value;

        // slow v2 replaces v1, whose process then ignores SIGTERM for the whole stop timeout.
        var watch = Stopwatch.StartNew();
        await h.WaitForPhaseAsync((await h.DeployAsync("v2", service: "slow")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(60));
        Alive(oldSlow).Should().BeTrue("slow v1 ignores SIGTERM, so it is still stopping when its rollout has succeeded");
        var stopping = watch.Elapsed;

        // Meanwhile another service deploys at its usual pace (its rollout took a second or two above).
        var quick = Stopwatch.StartNew();
        var done = await h.WaitForPhaseAsync((await h.DeployAsync("v2", service: "quick")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(60));
        quick.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(6), "one service's slow stop does not hold up the reconciler or the runtime for the others");
        done.Traffic.Should().ContainSingle().Which.Version.Should().Be("v2");
        (watch.Elapsed - stopping).Should().BeLessThan(StopTimeout - TimeSpan.FromSeconds(2), "quick v2 succeeded while slow v1 was still stopping");

        // And the slow instance is still stopped: killed at its stop timeout.
        while (Alive(oldSlow) && watch.Elapsed < StopTimeout + TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
        }

        Alive(oldSlow).Should().BeFalse("an instance that ignores SIGTERM is killed at its stop timeout");
        (await InstancesAsync(h)).Where(i => i.Service == "slow").Should().ContainSingle().Which.Version.Should().Be("v2");
    }

    /// <summary>
    /// A rolling update of two replicas scales the old set down one instance at a time. Those instances are out of
    /// traffic before they are stopped, and the steps do not wait for them to go: the rollout goes on while they stop,
    /// and so does another service's deploy.
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task ARollingScaleDownSlowToStop_HoldsUpNeitherItsRolloutNorAnotherService()
    {
        await using var h = await BothAtV1Async(2);

        var oldSlow = (await InstancesAsync(h)).Where(i => i.Service == "slow").Select(i => i.ProcessId!.Value).ToList();
        oldSlow.Should().HaveCount(2);

        // v2 replaces v1 one instance at a time (maxSurge 1, maxUnavailable 0); v1's instances ignore SIGTERM.
        var watch = Stopwatch.StartNew();
        await h.WaitForPhaseAsync((await h.DeployAsync("v2", service: "slow")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(60));
        watch.Elapsed.Should().BeLessThan(StopTimeout - TimeSpan.FromSeconds(3), "the step that scaled v1 down did not wait for its instance to go");
        oldSlow.Should().OnlyContain(pid => Alive(pid), "both v1 instances ignore SIGTERM, so they are still stopping");

        var quick = Stopwatch.StartNew();
        await h.WaitForPhaseAsync((await h.DeployAsync("v2", service: "quick")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(60));
        quick.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(6), "a scale-down slow to stop holds up no other service");

        while (oldSlow.Any(Alive) && watch.Elapsed < StopTimeout + TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
        }

        oldSlow.Should().NotContain(pid => Alive(pid), "each is killed at its stop timeout");
        var slow = (await InstancesAsync(h)).Where(i => i.Service == "slow").ToList();
        slow.Should().HaveCount(2).And.OnlyContain(i => i.Version == "v2" && i.Phase == "Ready");
    }

    /// <summary>
    /// A version wanted back while its instance still stops (v1 redeployed at once after v2 replaced it) starts again
    /// once that instance has gone, and another service's deploy meanwhile goes through at its usual pace.
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task AVersionWantedBackWhileItStops_StartsOnceItHasGone_AndHoldsUpNoOtherService()
    {
        await using var h = await BothAtV1Async(1);

        var oldSlow = (await InstancesAsync(h)).Single(i => i.Service == "slow").ProcessId!.Value;
        await h.WaitForPhaseAsync((await h.DeployAsync("v2", service: "slow")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(60));
        var back = await h.DeployAsync("v1", service: "slow");
        Alive(oldSlow).Should().BeTrue("v1's instance ignores SIGTERM: it is still stopping when v1 is wanted back");

        var quick = Stopwatch.StartNew();
        await h.WaitForPhaseAsync((await h.DeployAsync("v2", service: "quick")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(60));
        quick.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(6), "a version wanted back while it stops holds up no other service");
        Alive(oldSlow).Should().BeTrue("quick v2 succeeded while slow v1 was still stopping");

        var done = await h.WaitForPhaseAsync(back.Rollout.Id, RolloutPhase.Succeeded, StopTimeout + TimeSpan.FromSeconds(60));
        done.Traffic.Should().ContainSingle().Which.Version.Should().Be("v1");
        Alive(oldSlow).Should().BeFalse("the old instance was killed at its stop timeout");
        var slow = (await InstancesAsync(h)).Where(i => i.Service == "slow" && i.Version == "v1").Should().ContainSingle("v2's instance, slow to stop as well, may still be listed").Subject;
        slow.ProcessId.Should().NotBe(oldSlow, "v1 started again once its old instance had gone");
    }

    /// <summary>
    /// An update aborted in the middle of a rolling update wants the old version back at full size while the instance
    /// the update took away from it still stops: a new one starts at once beside it (on the next free index), so the
    /// old version serves in full again within seconds, not after that instance's stop timeout.
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task AnAbortMidRollingUpdate_BringsTheOldVersionBackAtOnce_WhileItsScaledAwayInstanceStillStops()
    {
        await using var h = await BothAtV1Async(2);
        var oldSlow = (await InstancesAsync(h)).Where(i => i.Service == "slow").Select(i => i.ProcessId!.Value).ToList();
        var flags = Directory.CreateTempSubdirectory("gantry-first-ready-");

        // Instances run as the runtime's own unprivileged user when the tests run as root: they must write here.
        File.SetUnixFileMode(flags.FullName, (UnixFileMode)0b111_111_111);
        try
        {
            // v2's first instance gets ready, its second never: v1 gives up one instance (which stops for its whole
            // stop timeout, ignoring SIGTERM) and the update stalls there.
            var update = await h.DeployAsync("v2", new Dictionary<string, string> { ["ONLY_FIRST_READY"] = flags.FullName }, service: "slow");
            await Wait.UntilAsync(async () =>
            {
                var now = await InstancesAsync(h);
                return now.Count(i => i is { Service: "slow", Version: "v1" }) == 1 && now.Count(i => i is { Service: "slow", Version: "v2" }) == 2;
            }, TimeSpan.FromSeconds(60), "v1 scaled down to one instance, v2 at two");
            var leaving = oldSlow.Except((await InstancesAsync(h)).Where(i => i.Service == "slow").Select(i => i.ProcessId ?? 0)).Should().ContainSingle().Subject;
            Alive(leaving).Should().BeTrue("it ignores SIGTERM: it stops for its whole stop timeout");

            var watch = Stopwatch.StartNew();
            using (var abort = await h.Api.PostAsJsonAsync("/api/v1/services/slow/abort", new CommandRequest("v2 stalls"), GantryJson.Options))
            {
                abort.IsSuccessStatusCode.Should().BeTrue(await abort.Content.ReadAsStringAsync());
            }

            var back = await h.WaitAsync(update.Rollout.Id, v => v.Traffic.Count == 1 && v.Traffic[0].Version == "v1", StopTimeout + TimeSpan.FromSeconds(30));
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(8), "v1's second instance started beside the one still stopping, not after its stop timeout (15 s)");
            back.Rollout.Phase.Should().Be(RolloutPhase.Aborted);
            Alive(leaving).Should().BeTrue("the instance taken away is still given its stop timeout");
            var v1 = (await InstancesAsync(h)).Where(i => i is { Service: "slow", Version: "v1" }).ToList();
            v1.Should().HaveCount(2).And.OnlyContain(i => i.Phase == "Ready");
            v1.Select(i => i.Index).Should().BeEquivalentTo([0, 2], "index 1 still belongs to the instance that stops");
        }
        finally
        {
            flags.Delete(recursive: true);
        }
    }

    /// <summary>A server running both services at v1: <c>slow</c> (<paramref name="slowReplicas"/> instances ignoring SIGTERM) and <c>quick</c>.</summary>
    private static async Task<ServerHarness> BothAtV1Async(int slowReplicas)
    {
        var h = await ServerHarness.StartAsync(listen => "version: 1\nservices:\n"
            + Service("slow", listen, ignoresTerm: true, slowReplicas) + "\n" + Service("quick", new Endpoint("127.0.0.1", FreePort.Next()), ignoresTerm: false));
        try
        {
            foreach (var service in new[] { "slow", "quick" })
            {
                await h.WaitForPhaseAsync((await h.DeployAsync("v1", service: service)).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(60));
            }

            return h;
        }
        catch
        {
            await h.DisposeAsync();
            throw;
        }
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].Equals("Z", StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<IReadOnlyList<InstanceRecord>> InstancesAsync(ServerHarness h) =>
        (await h.Api.GetFromJsonAsync<IReadOnlyList<InstanceRecord>>("/api/v1/instances", GantryJson.Options))!;
}
