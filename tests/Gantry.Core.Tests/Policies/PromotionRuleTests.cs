using Gantry.Core.Manifest;
using Gantry.Core.Policies;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Policies;

public sealed class PromotionRuleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly PromotionSpec FromStaging = new("staging", TimeSpan.FromHours(1), false);

    private static readonly ServiceSpec Service = ManifestLoader.LoadText("""
        version: 1
        services:
          web: { process: { command: app }, listen: 127.0.0.1:8080 }
        """).Manifest!.Services[0];

    private static RolloutState Rollout(string version, RolloutPhase phase, DateTimeOffset created, DateTimeOffset? finished, RolloutKind kind = RolloutKind.Deploy) =>
        RolloutEngine.Create($"web-staging-{version}-{created:HHmm}", Service, "staging", Release.Of(version), kind, [], created) with { Phase = phase, FinishedAt = finished };

    [Fact(Timeout = 10_000)]
    public void Check_NeverInStaging_IsRefused()
    {
        PromotionRule.Check(FromStaging, "production", "web", "2.0", [Rollout("1.0", RolloutPhase.Succeeded, T0, T0)], T0.AddDays(1))
            .Should().Be(new PromotionVerdict(false, "web 2.0 has not succeeded in staging: production takes releases from staging only"));
    }

    [Fact(Timeout = 10_000)]
    public void Check_SucceededButNotSoakedYet_SaysWhenItMayEnter()
    {
        var verdict = PromotionRule.Check(FromStaging, "production", "web", "2.0", [Rollout("2.0", RolloutPhase.Succeeded, T0, T0.AddMinutes(5))], T0.AddMinutes(17));
        verdict.Should().Be(new PromotionVerdict(false, "web 2.0 has soaked in staging for 12m of 1h: it may enter production from 2026-11-02 10:05 UTC", T0.AddMinutes(65)));
    }

    [Fact(Timeout = 10_000)]
    public void Check_SoakedForTheWholeTime_IsAllowed()
    {
        PromotionRule.Check(FromStaging, "production", "web", "2.0", [Rollout("2.0", RolloutPhase.Succeeded, T0, T0.AddMinutes(5))], T0.AddMinutes(65))
            .Allowed.Should().BeTrue();
    }

    [Fact(Timeout = 10_000)]
    public void Check_ReplacedInStagingBeforeTheSoakEnded_IsRefused()
    {
        var history = new[]
        {
            Rollout("2.1", RolloutPhase.Succeeded, T0.AddMinutes(30), T0.AddMinutes(35)),
            Rollout("2.0", RolloutPhase.Succeeded, T0, T0.AddMinutes(5)),
        };
        PromotionRule.Check(FromStaging, "production", "web", "2.0", history, T0.AddDays(1)).Message
            .Should().Be("web 2.0 ran in staging for only 30m of 1h before it was replaced there");

        var abortedLater = new[] { Rollout("2.1", RolloutPhase.Aborted, T0.AddMinutes(30), T0.AddMinutes(31)), history[1] };
        PromotionRule.Check(FromStaging, "production", "web", "2.0", abortedLater, T0.AddDays(1)).Allowed.Should().BeTrue("an aborted rollout never replaced it");
    }

    [Fact(Timeout = 10_000)]
    public void Check_RolledBackInStaging_IsRefused()
    {
        var history = new[] { Rollout("2.0", RolloutPhase.RolledBack, T0, T0.AddMinutes(5)) };
        PromotionRule.Check(FromStaging, "production", "web", "2.0", history, T0.AddDays(1)).Message
            .Should().StartWith("web 2.0 was rolled back in staging");
    }
}
