using System.Collections.Concurrent;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Server.Tests.Promotion;

/// <summary>
/// Automatic promotion looks when something was committed or a soak it waits for is over, not every couple of
/// seconds: at rest it reads nothing (it read the history of every promoted service and environment every 2 s, 2,000
/// reads at 1,000 services), and a release still goes on once it has soaked.
/// </summary>
public sealed class AutoPromotionTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(5);

    [Fact(Timeout = 120_000)]
    public async Task AtRest_ItReadsNothing_AndAReleaseIsPromotedOnceItHasSoaked()
    {
        CountingStore? counting = null;
        await using var h = await ServerHarness.StartAsync(
            listen => ServerHarness.ManifestText(listen, "rolling: { maxSurge: 1, maxUnavailable: 0 }", replicas: 1, extra: $$"""
                environments:
                  staging: {}
                  production:
                    promotion: { from: staging, soak: 2s, auto: true }
                    {{SampleService.OwnListen()}}
                """),
            configure: services => services.AddSingleton<IRolloutStore>(sp => counting = new CountingStore(sp.GetRequiredService<Storage.Sql.SqlStore>())));
        counting.Should().NotBeNull();

        // Its first looks: at the start, and after the first pass read the change mark (then it rests 2 s).
        await Wait.UntilAsync(() => Task.FromResult(h.Server.Reconciler.Passes > 0), TimeSpan.FromSeconds(30), "the reconciler's first pass");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var before = counting!.PromotionReads;
        await Task.Delay(Quiet);
        counting.PromotionReads.Should().Be(before, "nothing was committed and no soak is waited for");

        var staging = await h.DeployAsync("1.0");
        staging.Rollout.Environment.Should().Be("staging");
        var succeeded = (await h.WaitForPhaseAsync(staging.Rollout.Id, RolloutPhase.Succeeded)).Rollout.FinishedAt!.Value; // the soak counts from it
        RolloutState? promoted = null;
        await Wait.UntilAsync(async () => (promoted = (await h.Server.Store.ListAsync(new RolloutQuery("shop", "production"), default)).SingleOrDefault()) is not null,
            TimeSpan.FromSeconds(30), "the release is promoted to production");
        promoted!.CreatedBy.Should().Be(Gantry.Server.Hosting.AutoPromotion.Actor);
        promoted.Release.Version.Should().Be("1.0");
        (promoted.CreatedAt - succeeded).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2), "it soaked in staging first")
            .And.BeLessThan(TimeSpan.FromSeconds(5), "it was looked at again when the soak was over");
        await h.WaitForPhaseAsync(promoted.Id, RolloutPhase.Succeeded);

        await Task.Delay(TimeSpan.FromSeconds(5)); // past the looks after the last commits
        before = counting.PromotionReads;
        await Task.Delay(Quiet);
        counting.PromotionReads.Should().Be(before, "at rest again: promoted, nothing waits");
    }

    /// <summary>The store, counting the reads automatic promotion makes (the history of a service in an environment, up to 1,000 rollouts).</summary>
    private sealed class CountingStore(Storage.Sql.SqlStore store) : IRolloutStore
    {
        private readonly ConcurrentBag<RolloutQuery> reads = [];

        public int PromotionReads => reads.Count;

        public Task<IReadOnlyList<RolloutState>> ListAsync(RolloutQuery query, CancellationToken ct)
        {
            if (query.Limit == 1000)
            {
                reads.Add(query);
            }

            return store.ListAsync(query, ct);
        }

        public Task<string> NextIdAsync(string service, string environment, CancellationToken ct) => store.NextIdAsync(service, environment, ct);

        public Task<CommitOutcome> CreateAsync(RolloutState rollout, IReadOnlyList<RolloutEvent> events, CancellationToken ct, long? fromQueue = null, Core.Audit.AuditContext? who = null, RolloutChange? marks = null) =>
            store.CreateAsync(rollout, events, ct, fromQueue, who, marks);

        public Task<CommitOutcome> SaveAsync(RolloutState rollout, long expectedRevision, IReadOnlyList<RolloutEvent> events, CancellationToken ct, Core.Audit.AuditContext? who = null, Core.Cluster.LeaseFence? fence = null) =>
            store.SaveAsync(rollout, expectedRevision, events, ct, who, fence);

        public Task<RolloutState?> GetAsync(string id, CancellationToken ct) => store.GetAsync(id, ct);

        public Task<IReadOnlyList<RolloutState>> LatestPerTargetAsync(CancellationToken ct, string? service = null) => store.LatestPerTargetAsync(ct, service);

        public Task<long> ChangeMarkAsync(CancellationToken ct) => store.ChangeMarkAsync(ct);

        public Task<IReadOnlyList<StoredEvent>> EventsAsync(long afterId, string? rolloutId, int limit, CancellationToken ct) => store.EventsAsync(afterId, rolloutId, limit, ct);

        public Task<long> LastEventIdAsync(CancellationToken ct) => store.LastEventIdAsync(ct);

        public Task<IReadOnlyList<CommittedEvent>> CommittedEventsAsync(long afterId, int limit, CancellationToken ct) => store.CommittedEventsAsync(afterId, limit, ct);

        public Task<long> CursorAsync(string name, CancellationToken ct) => store.CursorAsync(name, ct);

        public Task MoveCursorAsync(string name, long position, CancellationToken ct) => store.MoveCursorAsync(name, position, ct);

        public Task SaveInstancesAsync(string service, string environment, IReadOnlyList<InstanceRecord> instances, CancellationToken ct) => store.SaveInstancesAsync(service, environment, instances, ct);

        public Task<IReadOnlyList<InstanceRecord>> InstancesAsync(string? service, string? environment, CancellationToken ct) => store.InstancesAsync(service, environment, ct);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask; // the server disposes the store itself
    }
}
