using System.Diagnostics;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;

namespace Gantry.Server.Tests.Reconciler;

/// <summary>
/// The reconciler at rest: a service whose rollout ended costs nothing per tick (no visit, no read of the rollouts)
/// until something about it changes (a command, an instance that dies) or the resync comes round; with nothing moving
/// the loop looks once a second instead of four times, and the runtime's change signals wake it at once.
/// </summary>
public sealed class AtRestTests
{
    private const int Timeout = 120_000;

    private static string Manifest(Endpoint listen) => ServerHarness.ManifestText(listen, "canary:\n  steps:\n    - setWeight: 50\n    - pause: { duration: 1s }", replicas: 1);

    [Fact(Timeout = Timeout)]
    public async Task AtRest_NothingIsVisitedOrRead_UntilAnInstanceDiesOrACommandComes()
    {
        var (started, _) = await RunningV1Async();
        await using var h = started;
        var reconciler = h.Server.Reconciler;
        await SettledAsync(reconciler);

        var (visits, reads, passes, observations) = (reconciler.Visits, reconciler.Reads, reconciler.Passes, reconciler.Observations);
        await Task.Delay(TimeSpan.FromSeconds(2));
        (reconciler.Passes - passes).Should().BeInRange(1, 3, "at rest the loop looks once a second (it looked four times a second)");
        reconciler.Visits.Should().Be(visits, "a rollout at rest with unchanged instances is not visited");
        reconciler.Reads.Should().Be(reads, "the rollouts are not read again while the store's change mark stays");
        reconciler.Observations.Should().Be(observations, "nor are the runtime's instances, which tells each change of an instance itself");

        // An instance killed behind Gantry's back: the runtime starts it again and the reconciler notices at once.
        var victim = h.Instances.Single();
        Process.GetProcessById(victim.ProcessId!.Value).Kill();
        var watch = Stopwatch.StartNew();
        while (reconciler.Visits == visits && watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(5);
        }

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(500), "the runtime told the instance's end at once (the loop at rest looks only once a second)");
        while (!(await InstancesAsync(h)).Any(i => i.Restarts >= 1 && i.Phase == InstancePhase.Ready.ToString()) && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        reconciler.Visits.Should().BeGreaterThan(visits, "the instance's change woke its target");
        reconciler.Observations.Should().BeGreaterThan(observations, "and the runtime was asked again");
        (await InstancesAsync(h)).Should().ContainSingle(i => i.Restarts >= 1 && i.Phase == InstancePhase.Ready.ToString() && i.ProcessId != victim.ProcessId);

        // A command is acted on at once, as before.
        var second = await h.DeployAsync("v2");
        var done = await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromSeconds(60));
        done.Traffic.Should().ContainSingle().Which.Version.Should().Be("v2");
        reconciler.Reads.Should().BeGreaterThan(reads);
    }

    [Fact(Timeout = Timeout)]
    public async Task AtRest_EveryTargetIsStillVisitedOnTheResyncPeriod()
    {
        var (started, _) = await RunningV1Async(resync: TimeSpan.FromSeconds(1));
        await using var h = started;
        var reconciler = h.Server.Reconciler;
        await Task.Delay(TimeSpan.FromSeconds(2));

        var (visits, reads, observations) = (reconciler.Visits, reconciler.Reads, reconciler.Observations);
        await Task.Delay(TimeSpan.FromSeconds(3.2));
        (reconciler.Visits - visits).Should().BeInRange(2, 4, "one visit of the one target per resync (1 s)");
        (reconciler.Observations - observations).Should().BeGreaterThanOrEqualTo(2, "the runtime is asked at every resync");
        (reconciler.Reads - reads).Should().BeInRange(2, 4, "and one read of the rollouts with each");
    }

    [Fact(Timeout = Timeout)]
    public async Task AtRest_TheResyncComesOnTime_WhenTimersEndAFewMillisecondsEarly()
    {
        // The runtime's timers count whole milliseconds and end up to a few of them early on the wall clock (seen: a
        // 100 ms delay measured 97.4 ms). Here every timer ends 5 ms early: a resync due 1 s after the last must still
        // come with the pass 1 s later, not wait a whole rest period more.
        var h = await ServerHarness.StartAsync(Manifest, time: new EarlyTimers(TimeSpan.FromMilliseconds(5)), resync: TimeSpan.FromSeconds(1));
        await using var _ = h;
        var first = await h.DeployAsync("v1");
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded);
        var reconciler = h.Server.Reconciler;
        await Task.Delay(TimeSpan.FromSeconds(2));

        var visits = reconciler.Visits;
        await Task.Delay(TimeSpan.FromSeconds(4.2));
        (reconciler.Visits - visits).Should().BeInRange(3, 5, "one visit per resync (1 s), not one every other second");
    }

    /// <summary>The system's clock, with timers that end <paramref name="early"/> before they are due.</summary>
    private sealed class EarlyTimers(TimeSpan early) : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            base.CreateTimer(callback, state, dueTime > early ? dueTime - early : dueTime, period);
    }

    [Fact(Timeout = Timeout)]
    public async Task ACommitByAnotherWriter_IsFollowedOnTheNextPass_NotAtTheResync()
    {
        // The resync is 30 s: the commit follower no longer reads the store twice a second, so only the pass that
        // sees the change mark move can hand it the commit of another replica.
        var (started, first) = await RunningV1Async();
        await using var h = started;
        var store = h.Server.Store;
        await FollowedAsync(store, await store.LastEventIdAsync(default), TimeSpan.FromSeconds(10));

        // As another replica's command would: a commit into the shared store that tells this server nothing.
        var rollout = (await store.GetAsync(first.Rollout.Id, default))!;
        (await store.SaveAsync(rollout with { Revision = rollout.Revision + 1 }, rollout.Revision, [new Gantry.Core.Strategies.RolloutEvent(RolloutEventType.Resumed, "noted by another replica")], default))
            .Should().Be(CommitOutcome.Committed);
        var watch = Stopwatch.StartNew();
        await FollowedAsync(store, await store.LastEventIdAsync(default), TimeSpan.FromSeconds(5));
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2.5), "the next pass (once a second at rest) saw the mark move and woke the follower");
    }

    [Fact(Timeout = Timeout)]
    public async Task AVisit_ReadsTheRolloutAgain_OnlyWhenACommandHereCommittedSinceTheMark()
    {
        var (started, first) = await RunningV1Async(resync: TimeSpan.FromSeconds(1));
        await using var h = started;
        var (reconciler, store) = (h.Server.Reconciler, h.Server.Store);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var (visits, rereads) = (reconciler.Visits, reconciler.Rereads);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        reconciler.Visits.Should().BeGreaterThan(visits, "the resync visits the target");
        reconciler.Rereads.Should().Be(rereads, "nothing was committed: the rollout read with the change mark is current");

        // A command commits while a resync, which has read the mark and the rollouts, waits for the target's lock.
        var gate = h.Server.Signals.LockFor(new TargetId(first.Rollout.Service, first.Rollout.Environment));
        await gate.WaitAsync(TestContext.Current.CancellationToken);
        long revision;
        try
        {
            var reads = reconciler.Reads;
            while (reconciler.Reads == reads)
            {
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }

            await Task.Delay(200, TestContext.Current.CancellationToken);
            var rollout = (await store.GetAsync(first.Rollout.Id, default))!;
            revision = rollout.Revision + 1;
            (await store.SaveAsync(rollout with { Revision = revision, Message = "noted by a command" }, rollout.Revision, [new Gantry.Core.Strategies.RolloutEvent(RolloutEventType.Resumed, "noted by a command")], default))
                .Should().Be(CommitOutcome.Committed);
            h.Server.Signals.AfterCommit();
        }
        finally
        {
            gate.Release();
        }

        var watch = Stopwatch.StartNew();
        while (reconciler.Rereads == rereads && watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        reconciler.Rereads.Should().Be(rereads + 1, "the waiting visit read the rollout again under the lock");
        reconciler.Targets.Single().State.Revision.Should().Be(revision, "and decided on what the command committed");
    }

    /// <summary>A server whose one service runs v1, its first rollout ended.</summary>
    private static async Task<(ServerHarness Server, RolloutView First)> RunningV1Async(TimeSpan? resync = null)
    {
        var h = await ServerHarness.StartAsync(Manifest, resync: resync);
        try
        {
            var first = await h.DeployAsync("v1");
            await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded);
            return (h, first);
        }
        catch
        {
            await h.DisposeAsync();
            throw;
        }
    }

    private static async Task FollowedAsync(Gantry.Storage.Sql.SqlStore store, long last, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (await store.CursorAsync(Gantry.Server.Rollouts.RolloutFollower.Name, default) < last)
        {
            watch.Elapsed.Should().BeLessThan(limit, "the commit follower hands over every commit");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits until two whole passes end without a visit or a read (the ended rollout's last instances settled, and the
    /// pass after the last visit read back what that visit committed); a loop that never rests fails here. Counted in
    /// passes, not in time: at rest a pass comes once a second, so a quiet second on the test's clock can end just before
    /// the pass that reads back the last visit's commit.
    /// </summary>
    private static async Task SettledAsync(Gantry.Server.Reconciler.RolloutReconciler reconciler)
    {
        var watch = Stopwatch.StartNew();
        var last = (reconciler.Visits, reconciler.Reads);
        var passes = reconciler.Passes;
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
            var now = (reconciler.Visits, reconciler.Reads);
            if (now != last)
            {
                (last, passes) = (now, reconciler.Passes);
            }
            else if (reconciler.Passes - passes >= 2)
            {
                return;
            }
        }

        throw new TimeoutException($"the reconciler kept visiting or reading: {reconciler.Visits} visits, {reconciler.Reads} reads");
    }

    private static async Task<IReadOnlyList<InstanceRecord>> InstancesAsync(ServerHarness h) =>
        (await h.Api.GetFromJsonAsync<IReadOnlyList<InstanceRecord>>("/api/v1/instances", GantryJson.Options))!;
}
