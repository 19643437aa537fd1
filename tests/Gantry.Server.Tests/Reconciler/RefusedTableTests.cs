using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gantry.Core.Rollouts;

namespace Gantry.Server.Tests.Reconciler;

/// <summary>
/// A table the router refuses (its listen address held by another program) is sent again after a back-off, not on
/// every tick of the loop; once the address is free, the next try puts it in force and the rollout goes on.
/// </summary>
public sealed class RefusedTableTests
{
    [Fact(Timeout = 120_000)]
    public async Task ARefusedTable_IsTriedAgainWithBackOff_AndGoesInOnceItCan()
    {
        TcpListener? squatter = null;
        await using var h = await ServerHarness.StartAsync(listen =>
        {
            squatter = new TcpListener(IPAddress.Parse(listen.Host), listen.Port);
            squatter.Start();
            return ServerHarness.ManifestText(listen, "rolling: { maxSurge: 1, maxUnavailable: 0 }", replicas: 1);
        });
        try
        {
            var reconciler = h.Server.Reconciler;
            var deploy = await h.DeployAsync("v1");
            var watch = Stopwatch.StartNew();
            while (reconciler.RouterError is null && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }

            reconciler.RouterError.Should().StartWith($"cannot listen on {h.Listen}");
            var tables = reconciler.Tables;
            var passes = reconciler.Passes;
            await Task.Delay(TimeSpan.FromSeconds(4));
            (reconciler.Passes - passes).Should().BeGreaterThanOrEqualTo(12, "the loop ticks four times a second, the split unverified");
            (reconciler.Tables - tables).Should().BeInRange(1, 3, "the same refused table is sent again 1 s, 2 s, 4 s apart, not on every tick");

            squatter!.Stop();
            var done = await h.WaitForPhaseAsync(deploy.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(40));
            done.Traffic.Should().ContainSingle().Which.Version.Should().Be("v1");
            watch.Restart();
            while (reconciler.RouterError is not null && watch.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(100);
            }

            reconciler.RouterError.Should().BeNull("the next try, at most 10 s after the last, found the address free");
            using var client = new HttpClient();
            (await client.GetAsync(h.Front)).IsSuccessStatusCode.Should().BeTrue("the table is in force: the router serves the release");
        }
        finally
        {
            squatter?.Stop();
        }
    }
}
