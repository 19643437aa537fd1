using Gantry.Core.Cluster;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Storage.Tests.Contract;

/// <summary>Leases: one holder at a time, renewed with its token, taken over once expired with a new token, given up; writes fenced by a stale token refused.</summary>
public abstract class LeaseStoreContract<TStore> : StoreContract<TStore>
    where TStore : IRolloutStore, ILeaseStore
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
}
