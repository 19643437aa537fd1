using Gantry.Core.Analysis;
using Gantry.Core.Analysis.Judge;
using Gantry.Core.Analysis.Statistics;
using Gantry.Core.Audit;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Storage.Tests.Contract;

/// <summary>Releases and the deploy queue: a queued deploy leaves the queue only with the rollout it starts, once.</summary>
public abstract class ReleaseStoreContract<TStore> : StoreContract<TStore>
    where TStore : IRolloutStore, IReleaseStore, IAuditStore
{
    [Fact(Timeout = 30_000)]
    public async Task EnqueueAsync_QueuedDeploy_LeavesTheQueueOnlyWithTheRolloutItStarts()
    {
        await using var store = Open();
        var queued = await store.EnqueueAsync(new QueuedDeploy(0, "web", "production", Release.Of("v2"), "alice", Time.GetUtcNow()), default);
        queued.Id.Should().BePositive();
        (await store.QueuedAsync("web", "production", default)).Should().Equal(queued);

        (await store.CreateAsync(NewRollout("web-production-1", "v2"), [], default, queued.Id)).Should().Be(CommitOutcome.Committed);
        (await store.QueuedAsync(null, null, default)).Should().BeEmpty();

        // Starting the same queued deploy twice: the second attempt changes nothing.
        await store.SaveAsync((await store.GetAsync("web-production-1", default))! with { Phase = RolloutPhase.Succeeded, Revision = 1 }, 0, [], default);
        (await store.CreateAsync(NewRollout("web-production-2", "v2"), [], default, queued.Id)).Should().Be(CommitOutcome.Conflict);
        (await store.GetAsync("web-production-2", default)).Should().BeNull();
    }

    [Fact(Timeout = 30_000)]
    public async Task EnqueueAsync_MovesTheChangeMark_SoTheLeadersQueueStarterLooksWhicheverReplicaQueued()
    {
        await using var store = Open();
        var before = await store.ChangeMarkAsync(default);
        await store.EnqueueAsync(new QueuedDeploy(0, "web", "production", Release.Of("v2"), "alice", Time.GetUtcNow()), default);
        var queued = await store.ChangeMarkAsync(default);
        queued.Should().NotBe(before, "a deploy was queued: what runs next changed");
        await store.QueuedAsync(null, null, default);
        (await store.ChangeMarkAsync(default)).Should().Be(queued, "reading the queue changes nothing");
    }

    [Fact(Timeout = 30_000)]
    public async Task RemoveQueuedAsync_ByAPerson_IsAuditedWithWhoAndWhyAndOnlyOnce()
    {
        await using var store = Open();
        var queued = await store.EnqueueAsync(new QueuedDeploy(0, "web", "production", Release.Of("v3"), "alice", Time.GetUtcNow()), default);
        (await store.RemoveQueuedAsync(queued.Id, default, new AuditContext("bob", "wrong version"))).Should().BeTrue();
        (await store.RemoveQueuedAsync(queued.Id, default, new AuditContext("bob"))).Should().BeFalse();
        (await store.AuditAsync(new AuditQuery("web/production"), default)).Should().ContainSingle()
            .Which.Should().Match<AuditEvent>(e => e.Actor == "bob" && e.Action == "queue.removed" && e.Reason == "wrong version");
    }

    [Fact(Timeout = 30_000)]
    public async Task ReleasesAsync_EveryDeploy_IsListedNewestFirst()
    {
        await using var store = Open();
        var first = NewRollout("web-production-1", "v1");
        await store.CreateAsync(first, [], default);
        await store.SaveAsync(first with { Phase = RolloutPhase.Succeeded, Revision = 1 }, 0, [], default);
        Time.Advance(TimeSpan.FromMinutes(5));
        var second = NewRollout("web-production-2", "v2");
        await store.CreateAsync(second, [], default);
        (await store.ReleasesAsync("web", default)).Select(r => r.Release).Should().Equal(second.Release, first.Release);
        (await store.ReleasesAsync("api", default)).Should().BeEmpty();
    }
}

/// <summary>Analysis runs: snapshots replaced whole, statistics that are NaN or infinite kept as they are.</summary>
public abstract class AnalysisStoreContract<TStore> : StoreContract<TStore>
    where TStore : IRolloutStore, IAnalysisStore
{
    [Fact(Timeout = 30_000)]
    public async Task SaveAnalysisAsync_RunWithNaNAndInfiniteStatistics_RoundTripsAndReplacesItsSnapshot()
    {
        await using var store = Open();
        await store.CreateAsync(NewRollout("r1", "v1"), [], default);
        var estimate = new ShiftEstimate(10, 10, double.NaN, 0, 0.5, 0.4, double.PositiveInfinity, 0.98);
        var judged = new MetricJudgement("p99", MetricClass.High, true, false, 1, estimate, 1.0, 0.5, "p99: higher");
        var judgement = new Judgement(0, JudgementOutcome.Fail, [judged], "score 0");
        var measurement = new MetricMeasurement(Time.GetUtcNow(), AnalysisPhase.Failed, double.NaN, null, "p99: higher");
        var metric = new MetricResult("p99", false, AnalysisPhase.Failed, 1, 0, 1, 0, 0, 0, 0, [measurement]);
        var run = new AnalysisRunRecord("r1/1/1", "r1", ["judge"], "step 2/2", AnalysisPhase.Running, "measuring", [metric], [judgement], Time.GetUtcNow(), Time.GetUtcNow());

        await store.SaveAnalysisAsync(run, default);
        await store.SaveAnalysisAsync(run with { Phase = AnalysisPhase.Failed, Message = "failed" }, default);

        var back = (await store.AnalysisAsync("r1", default)).Should().ContainSingle().Subject;
        back.Phase.Should().Be(AnalysisPhase.Failed);
        back.Judgements[0].Metrics[0].Estimate!.U.Should().Be(double.NaN);
        back.Judgements[0].Metrics[0].Estimate!.Upper.Should().Be(double.PositiveInfinity);
        back.Metrics[0].Measurements[0].Value.Should().Be(double.NaN);
    }
}
