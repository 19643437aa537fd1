using Gantry.Core.Admission;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Admission;

/// <summary>Where a rollback goes, from the history alone.</summary>
public sealed class RollbackTargetTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private static readonly ServiceSpec Web = ManifestLoader.LoadText("""
        version: 1
        services:
          web: { process: { command: app, args: ["{port}"] }, listen: 127.0.0.1:8080, health: { readiness: { path: /ready } } }
        """).Manifest!.Services[0];

    /// <summary>A finished rollout of <paramref name="version"/> that left it as the stable set.</summary>
    private static RolloutState Ran(int n, string version, RolloutPhase phase = RolloutPhase.Succeeded, Release? release = null)
    {
        var r = release ?? Release.Of(version);
        return RolloutEngine.Create($"web-default-{n}", Web, "default", r, RolloutKind.Deploy, [], T0.AddHours(n)) with
        {
            Phase = phase,
            Sets = [new InstanceSet(r, SetRole.Stable, 1, 1)],
        };
    }

    [Fact(Timeout = 10_000)]
    public void Choose_Default_GoesToThePreviousStableReleaseAndUndoesTheCurrentOne()
    {
        var history = new[] { Ran(3, "3.0"), Ran(2, "2.0", RolloutPhase.Aborted) with { Sets = [new InstanceSet(Release.Of("1.0"), SetRole.Stable, 1, 1)] }, Ran(1, "1.0") };
        var choice = RollbackTarget.Choose("web", "default", history, null);
        choice.Target.Should().Be(Release.Of("1.0"), "2.0 was aborted and never ran as the stable release");
        choice.Replaced!.Id.Should().Be("web-default-3");
    }

    [Fact(Timeout = 10_000)]
    public void Choose_Refusals_SayWhy()
    {
        RollbackTarget.Choose("web", "default", [], null).Refusal.Should().Be(RollbackRefusal.NothingRunning);
        RollbackTarget.Choose("web", "default", [Ran(2, "2.0", RolloutPhase.Progressing), Ran(1, "1.0")], null).Refusal.Should().Be(RollbackRefusal.InProgress);
        RollbackTarget.Choose("web", "default", [Ran(1, "1.0")], null).Should().Be(new RollbackChoice(null, null, RollbackRefusal.NothingToRollBackTo, "web in default has had only one release (1.0)"));
        RollbackTarget.Choose("web", "default", [Ran(2, "2.0"), Ran(1, "1.0")], "0.9").Refusal.Should().Be(RollbackRefusal.NotATarget);
        RollbackTarget.Choose("web", "default", [Ran(2, "2.0"), Ran(1, "1.0")], "2.0").Refusal.Should().Be(RollbackRefusal.AlreadyRunning);
    }

    [Fact(Timeout = 10_000)]
    public void Choose_SameVersionOtherVariables_GoesBackToTheVariablesItRanWith()
    {
        var before = new Release("2.0", [new("LOG", "info")], null, null);
        var now = new Release("2.0", [new("LOG", "debug")], null, null);
        var choice = RollbackTarget.Choose("web", "default", [Ran(2, "2.0", release: now), Ran(1, "2.0", release: before)], null);
        choice.Target.Should().Be(before);
    }
}
