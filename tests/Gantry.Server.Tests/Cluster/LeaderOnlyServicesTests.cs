using Gantry.Core.Cluster;
using Gantry.Server.Backups;
using Gantry.Server.Cluster;
using Gantry.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Cluster;

/// <summary>The loops of a replica run while it leads: started in order when it takes the lead, stopped in reverse when it loses it, started again when it takes it back.</summary>
public sealed class LeaderOnlyServicesTests
{
    private sealed class Recorder(string name, List<string> log) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lock (log)
            {
                log.Add("start " + name);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            lock (log)
            {
                log.Add("stop " + name);
            }

            return Task.CompletedTask;
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Loops_RunOnlyWhileTheReplicaLeads()
    {
        var leadership = Leadership.AmongReplicas("b");
        var log = new List<string>();
        using var loops = new LeaderOnlyServices(leadership, [new Recorder("custody", log), new Recorder("reconciler", log)], TimeProvider.System, NullLogger<LeaderOnlyServices>.Instance);
        await loops.StartAsync(default);
        string[] Seen()
        {
            lock (log)
            {
                return [.. log];
            }
        }

        leadership.Observe(new Lease(Leadership.LeaseName, "a", 1, DateTimeOffset.UtcNow.AddSeconds(3)));
        await Task.Delay(300);
        Seen().Should().BeEmpty("replica a leads");
        leadership.IsLeader.Should().BeFalse();
        leadership.Fence.Should().BeNull();

        leadership.Observe(new Lease(Leadership.LeaseName, "b", 2, DateTimeOffset.UtcNow.AddSeconds(3)));
        await Wait.UntilAsync(() => Task.FromResult(Seen().Length == 2), TimeSpan.FromSeconds(5), "the loops start");
        Seen().Should().Equal("start custody", "start reconciler");
        leadership.Fence.Should().Be(new LeaseFence(Leadership.LeaseName, "b", 2));

        leadership.Lose();
        await Wait.UntilAsync(() => Task.FromResult(Seen().Length == 4), TimeSpan.FromSeconds(5), "the loops stop");
        Seen().Skip(2).Should().Equal(new[] { "stop reconciler", "stop custody" }, "in reverse: the runtime lets its instances go last");

        leadership.Observe(new Lease(Leadership.LeaseName, "b", 3, DateTimeOffset.UtcNow.AddSeconds(3)));
        await Wait.UntilAsync(() => Task.FromResult(Seen().Length == 6), TimeSpan.FromSeconds(5), "the loops start again");
        await loops.StopAsync(default);
        Seen().Skip(6).Should().Equal(new[] { "stop reconciler", "stop custody" }, "stopping the server stops them");
    }

    [Fact(Timeout = 10_000)]
    public void ScheduledBackups_AmongReplicas_RunUnderTheLeadOnly()
    {
        var schedule = new BackupSchedule("/tmp/backups", TimeSpan.FromDays(1), TimeSpan.FromDays(30));
        var alone = new ServiceCollection();
        ScheduledBackups.Add(alone, schedule, Leadership.Alone());
        alone.Should().ContainSingle(d => d.ServiceType == typeof(IHostedService)).Which.ImplementationType.Should().Be<ScheduledBackups>();

        var replicas = new ServiceCollection();
        ScheduledBackups.Add(replicas, schedule, Leadership.AmongReplicas("a"));
        replicas.Should().ContainSingle(d => d.ServiceType == typeof(IHostedService)).Which.ImplementationFactory.Should().NotBeNull("a LeaderOnlyServices around it");
        replicas.Should().Contain(d => d.ServiceType == typeof(ScheduledBackups));
    }
}
