using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

/// <summary>Jobs at hook points: what a rollout waits for, what a failure does, what is kept of each run.</summary>
public sealed class JobHookTests
{
    private const string Canary = """
        canary:
          steps: [{ setWeight: 50 }, { pause: {} }]
        """;

    private const string Rolling = """
        rolling: { maxSurge: 1, maxUnavailable: 0 }
        """;

    private static RolloutWorld World(string strategy, string jobs)
    {
        var world = new RolloutWorld(strategy, serviceYaml: jobs);
        return world;
    }

    [Theory(Timeout = 10_000)]
    [InlineData(JobHook.PreDeploy)]
    [InlineData(JobHook.PreTraffic)]
    [InlineData(JobHook.PostPromotion)]
    [InlineData(JobHook.OnAbort)]
    [InlineData(JobHook.OnRollback)]
    public void AHooksName_IsTheManifestsKey_ReadBackAsTheSameHook(JobHook hook)
    {
        // One name everywhere people read it (events, status, GANTRY_HOOK): the one they wrote in the manifest.
        var world = World(Rolling, $"jobs: {{ j: {{ at: {hook.ManifestName()}, args: [./j.sh] }} }}");
        world.Service.Jobs.Should().ContainSingle().Which.At.Should().Be(hook);
        Enum.GetValues<JobHook>().Select(h => h.ManifestName()).Should().OnlyHaveUniqueItems();
    }

    [Fact(Timeout = 10_000)]
    public void PreDeploy_RunsBeforeAnyInstanceStarts_AndItsFailureStopsTheRollout()
    {
        var world = World(Rolling, "jobs: { migrate: { at: preDeploy, args: [./migrate.sh] } }");
        world.JobResults["migrate"] = true;
        world.Deploy("v1");
        world.Settle().Phase.Should().Be(RolloutPhase.Succeeded, "the first release runs its preDeploy jobs too");
        world.JobResults.Clear();

        world.Deploy("v2");
        world.Settle();
        world.State.Job!.Hook.Should().Be(JobHook.PreDeploy);
        world.State.SetOf("v2").Should().BeNull("no instance of the release starts before its migration");
        world.Advance(TimeSpan.FromMinutes(30)).Phase.Should().Be(RolloutPhase.Progressing, "a job is bounded by its own timeout, not the progress deadline");

        world.JobResults["migrate"] = false;
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Failed);
        world.State.Message.Should().Be("preDeploy job migrate failed: exited with 1 (last line: relation users already exists); no instance of v2 was started");
        world.History.Concat([world.State]).Should().NotContain(s => s.Id == world.State.Id && s.SetOf("v2") != null);
        world.State.Jobs.Should().ContainSingle().Which.Should().Match<JobOutcome>(j => j.Name == "migrate" && !j.Succeeded && j.Attempt == 1);
        world.Serving().Keys.Should().Equal("v1");
    }

    [Fact(Timeout = 10_000)]
    public void PreDeploy_Passed_StartsTheRelease_AndARetryRunsItAgain()
    {
        var world = World(Canary, "jobs: { migrate: { at: preDeploy, args: [./migrate.sh] } }");
        world.JobResults["migrate"] = true;
        world.Deploy("v1");
        world.Settle();
        world.Deploy("v2");
        world.Settle();
        world.State.SetOf("v2").Should().NotBeNull();
        world.Weights()["v2"].Should().Be(50);

        world.Command(CommandKind.Abort);
        world.JobResults.Clear();
        world.Command(CommandKind.Retry).Refusal.Should().BeNull();
        world.Settle();
        world.State.Attempt.Should().Be(2);
        world.State.Job!.Hook.Should().Be(JobHook.PreDeploy, "a retry is a new attempt: its migration runs again");
    }

    [Theory(Timeout = 10_000)]
    [InlineData(Canary)]
    [InlineData(Rolling)]
    public void PreTraffic_RunsOnceTheFirstInstancesAreReady_BeforeAnyTraffic_AndItsFailureAborts(string strategy)
    {
        var world = World(strategy, "jobs: { smoke: { at: preTraffic, args: [./smoke.sh] } }");
        world.Deploy("v1");
        world.Settle();

        world.Deploy("v2");
        world.Settle();
        world.State.Job!.Hook.Should().Be(JobHook.PreTraffic);
        world.State.SetOf("v2")!.Replicas.Should().BeGreaterThan(0);
        world.Serving().Keys.Should().Equal("v1");
        world.Weights().GetValueOrDefault("v2").Should().Be(0);

        world.JobResults["smoke"] = false;
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.Message.Should().Be("preTraffic job smoke failed: exited with 1 (last line: relation users already exists); v2 never got traffic");
        world.History.Should().NotContain(s => s.Traffic.CanaryWeight > 0);
    }

    [Fact(Timeout = 10_000)]
    public void PreTraffic_Passed_TheRollingUpdateGoesOn()
    {
        var world = World(Rolling, "jobs: { smoke: { at: preTraffic, args: [./smoke.sh] } }");
        world.Deploy("v1");
        world.Settle();
        world.Deploy("v2");
        world.Settle();
        world.JobResults["smoke"] = true;
        for (var i = 0; i < 20 && world.State.Phase != RolloutPhase.Succeeded; i++)
        {
            world.Advance(TimeSpan.FromSeconds(1));
        }

        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        world.Serving().Keys.Should().Equal("v2");
        world.State.Jobs.Should().ContainSingle(j => j.Hook == JobHook.PreTraffic && j.Succeeded);
    }

    [Fact(Timeout = 10_000)]
    public void PostPromotion_Failing_RollsBack_AndOnRollbackRunsAfterIt()
    {
        var world = World(Canary, "jobs: { check: { at: postPromotion, args: [./check.sh] }, down: { at: onRollback, args: [./down.sh] } }");
        world.Deploy("v1");
        world.Settle();
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.PromoteFull);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Watching);
        world.State.Job!.Hook.Should().Be(JobHook.PostPromotion);

        world.JobResults["check"] = false;
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.RolledBack);
        world.Serving().Keys.Should().Equal("v1");
        world.State.Job!.Hook.Should().Be(JobHook.OnRollback, "the down-migration runs once traffic is back");

        world.JobResults["down"] = true;
        world.Settle();
        world.State.Job.Should().BeNull();
        world.State.Jobs.Select(j => (j.Name, j.Succeeded)).Should().Equal(("check", false), ("down", true));
        world.Events.Should().Contain(e => e.Type == RolloutEventType.JobSucceeded && e.Message == "onRollback job down: exited with 0");
    }

    [Fact(Timeout = 10_000)]
    public void Retry_WhileOnAbortRuns_ForgetsIt_AndTheSmokeTestWaitsForTheNewInstancesAgain()
    {
        var world = World(Canary, "jobs: { smoke: { at: preTraffic, args: [./smoke.sh] }, cleanup: { at: onAbort, args: [./cleanup.sh] } }");
        world.Deploy("v1");
        world.Settle();
        world.JobResults["smoke"] = true;
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.Abort);
        world.State.Job!.Hook.Should().Be(JobHook.OnAbort);

        world.JobResults.Clear();
        world.ReadyLimit["v2"] = 0;
        world.Command(CommandKind.Retry).Refusal.Should().BeNull();
        world.Settle();
        world.State.Job.Should().BeNull("the smoke test waits for the retried canary's instances");
        world.State.Message.Should().Be("starting v2: 0/1 instances ready before its preTraffic jobs");

        world.ReadyLimit["v2"] = 2;
        world.Settle();
        world.State.Job!.Hook.Should().Be(JobHook.PreTraffic);
        world.State.Job.Key.Should().EndWith("/2/preTraffic");
    }

    [Fact(Timeout = 10_000)]
    public void OnAbort_RunsAfterAnAbort()
    {
        var world = World(Canary, "jobs: { cleanup: { at: onAbort, args: [./cleanup.sh] } }");
        world.Deploy("v1");
        world.Settle();
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.Abort);
        world.State.Job!.Hook.Should().Be(JobHook.OnAbort);
        world.JobResults["cleanup"] = true;
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.Jobs.Should().ContainSingle(j => j.Name == "cleanup" && j.Succeeded);
    }
}
