using Gantry.Core.Cluster;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Storage.Tests.Contract;

/// <summary>
/// Leases: one holder at a time, renewed with its token, taken over once expired with a new token, given up; writes
/// fenced by a stale token refused. The table published for the replicas' routers, and their reports.
/// </summary>
public abstract class LeaseStoreContract<TStore> : StoreContract<TStore>
    where TStore : IRolloutStore, ILeaseStore, IFleetStore
{
    [Fact(Timeout = 30_000)]
    public async Task TryLeadAsync_OneHolderAtATime_TakenOverOnceExpiredWithANewToken()
    {
        await using var store = Open();
        var ttl = TimeSpan.FromSeconds(3);
        (await store.TryLeadAsync("control-plane", "a", ttl, Time.GetUtcNow(), default)).Should().Be(new Lease("control-plane", "a", 1, Time.GetUtcNow() + ttl));
        Time.Advance(TimeSpan.FromSeconds(1));
        (await store.TryLeadAsync("control-plane", "b", ttl, Time.GetUtcNow(), default)).Holder.Should().Be("a", "a holds it for 2 s more");
        (await store.TryLeadAsync("control-plane", "a", ttl, Time.GetUtcNow(), default)).Should().Be(new Lease("control-plane", "a", 1, Time.GetUtcNow() + ttl), "renewed with the same token");

        Time.Advance(TimeSpan.FromSeconds(4));
        (await store.TryLeadAsync("control-plane", "b", ttl, Time.GetUtcNow(), default)).Should().Be(new Lease("control-plane", "b", 2, Time.GetUtcNow() + ttl), "a let it expire");
        await store.ReleaseLeaseAsync("control-plane", "a", default);
        (await store.TryLeadAsync("control-plane", "a", ttl, Time.GetUtcNow(), default)).Holder.Should().Be("b", "only the holder gives a lease up");
        await store.ReleaseLeaseAsync("control-plane", "b", default);
        (await store.TryLeadAsync("control-plane", "a", ttl, Time.GetUtcNow(), default)).Should().Be(new Lease("control-plane", "a", 3, Time.GetUtcNow() + ttl), "given up: taken at once");
    }

    [Fact(Timeout = 30_000)]
    public async Task SaveAsync_FencedByAStaleToken_IsRefusedAndChangesNothing()
    {
        await using var store = Open();
        var rollout = NewRollout("web-production-1", "v1");
        await store.CreateAsync(rollout, [new RolloutEvent(RolloutEventType.Created, "deploy")], default);
        var first = await store.TryLeadAsync("control-plane", "a", TimeSpan.FromSeconds(3), Time.GetUtcNow(), default);
        Time.Advance(TimeSpan.FromSeconds(5));
        var second = await store.TryLeadAsync("control-plane", "b", TimeSpan.FromSeconds(3), Time.GetUtcNow(), default);

        var moved = rollout with { Revision = 1, Phase = RolloutPhase.Succeeded };
        (await store.SaveAsync(moved, 0, [new RolloutEvent(RolloutEventType.Succeeded, "by a")], default, fence: new LeaseFence("control-plane", "a", first.Token)))
            .Should().Be(CommitOutcome.Conflict, "a lost the lease while it was away");
        (await store.GetAsync(rollout.Id, default))!.Revision.Should().Be(0);
        (await store.SaveAsync(moved, 0, [new RolloutEvent(RolloutEventType.Succeeded, "by b")], default, fence: new LeaseFence("control-plane", "b", second.Token)))
            .Should().Be(CommitOutcome.Committed);
        (await store.EventsAsync(0, rollout.Id, 10, default)).Select(e => e.Message).Should().Equal("deploy", "by b");
    }

    [Fact(Timeout = 30_000)]
    public async Task PublishTableAsync_NumbersEachChange_KeepsTheVersionOfTheSameRoutes_AndRefusesADeposedLeader()
    {
        await using var store = Open();
        (await store.PublishedTableAsync(default)).Should().BeNull();
        (await store.PublishedVersionAsync(default)).Should().Be(0);
        var a = await store.TryLeadAsync("control-plane", "a", TimeSpan.FromSeconds(3), Time.GetUtcNow(), default);
        var fenceA = new LeaseFence(a.Name, a.Holder, a.Token);
        (await store.PublishTableAsync("[1]", fenceA, Time.GetUtcNow(), default)).Should().Be(1);
        (await store.PublishTableAsync("[1]", fenceA, Time.GetUtcNow(), default)).Should().Be(1, "the same routes are the same table");
        Time.Advance(TimeSpan.FromSeconds(1));
        (await store.PublishTableAsync("[2]", fenceA, Time.GetUtcNow(), default)).Should().Be(2);
        (await store.PublishedTableAsync(default)).Should().Be(new PublishedTable(2, "[2]", "a", Time.GetUtcNow()));
        (await store.PublishedVersionAsync(default)).Should().Be(2);

        Time.Advance(TimeSpan.FromSeconds(5));
        var b = await store.TryLeadAsync("control-plane", "b", TimeSpan.FromSeconds(3), Time.GetUtcNow(), default);
        (await store.PublishTableAsync("[3 by a]", fenceA, Time.GetUtcNow(), default)).Should().BeNull("a lost the lease");
        (await store.PublishTableAsync("[3]", new LeaseFence(b.Name, b.Holder, b.Token), Time.GetUtcNow(), default)).Should().Be(3);
        (await store.PublishedTableAsync(default))!.Should().Match<PublishedTable>(t => t.Routes == "[3]" && t.Publisher == "b");
    }

    [Fact(Timeout = 30_000)]
    public async Task ClusterIdAsync_DrawnOncePerStore()
    {
        await using var store = Open();
        var id = await store.ClusterIdAsync(default);
        id.Should().MatchRegex("^[0-9a-f]{16}$");
        (await store.ClusterIdAsync(default)).Should().Be(id);
        await using var again = Open();
        (await again.ClusterIdAsync(default)).Should().Be(id, "drawn when the schema was made, not at each opening");
    }

    [Fact(Timeout = 30_000)]
    public async Task ReportReplicaAsync_KeepsEachReplicasLastReport()
    {
        await using var store = Open();
        var now = Time.GetUtcNow();
        await store.ReportReplicaAsync(new ReplicaReport("b", now, 0, "the router process did not answer"), default);
        await store.ReportReplicaAsync(new ReplicaReport("a", now, 4, null), default);
        await store.ReportReplicaAsync(new ReplicaReport("b", now + TimeSpan.FromSeconds(1), 4, null), default);
        (await store.ReplicasAsync(default)).Should().Equal(new ReplicaReport("a", now, 4, null), new ReplicaReport("b", now + TimeSpan.FromSeconds(1), 4, null));
        new ReplicaReport("a", now, 4, null).Alive(now + TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3)).Should().BeTrue();
        new ReplicaReport("a", now, 4, null).Alive(now + TimeSpan.FromSeconds(3.5), TimeSpan.FromSeconds(3)).Should().BeFalse();
    }
}
