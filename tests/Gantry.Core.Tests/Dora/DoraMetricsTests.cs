using FluentAssertions;
using Gantry.Core.Dora;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Tests.Dora;

/// <summary>
/// DORA's four keys on a seeded history of 500 deploy rollouts and 40 incidents over 70 days, each expected
/// figure worked out by hand from how the history is made (comments give the arithmetic).
/// </summary>
public sealed class DoraMetricsTests
{
    private static readonly DateTimeOffset From = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero); // a Monday
    private static readonly DateTimeOffset To = From.AddDays(70);

    /// <summary>
    /// Rollout k (0..499) is created at From + 3k hours. k % 10 == 5: aborted (50); k % 25 == 3: failed its deadline
    /// (20: k = 3, 28, ..., 478); k % 10 == 0: rolled back after succeeding (50); the other 380 succeeded. A deployed
    /// rollout ends 30 min after its creation; its commit was made 1.5 h (even k) or 25.5 h (odd k) before that,
    /// so its lead time is 2 h or 26 h. The aborted rollouts k = 5, 15, ..., 395 (the first 40) have an incident each,
    /// opened an hour after the rollout and resolved 15 min x (j + 1) later (j = 0..39).
    /// </summary>
    private static (List<DeploymentFact> Rollouts, List<RestoreFact> Incidents) History()
    {
        var rollouts = new List<DeploymentFact>();
        var incidents = new List<RestoreFact>();
        for (var k = 0; k < 500; k++)
        {
            var created = From.AddHours(3 * k);
            var phase = k % 10 == 5 ? RolloutPhase.Aborted : k % 25 == 3 ? RolloutPhase.Failed : k % 10 == 0 ? RolloutPhase.RolledBack : RolloutPhase.Succeeded;
            var deployed = phase is RolloutPhase.Succeeded or RolloutPhase.RolledBack;
            var incident = k % 10 == 5 && k < 400;
            rollouts.Add(new DeploymentFact(DoraMetrics.WeekIndex(From, created), deployed ? TimeSpan.FromHours(k % 2 == 0 ? 2 : 26) : null, phase, incident));
            if (incident)
            {
                var j = (k - 5) / 10;
                var opened = created.AddHours(1);
                incidents.Add(new RestoreFact(opened, opened.AddMinutes(15 * (j + 1))));
            }
        }

        return (rollouts, incidents);
    }

    [Fact(Timeout = 10_000)]
    public void Compute_SeededHistory_MatchesTheHandComputedFigures()
    {
        var (rollouts, incidents) = History();
        rollouts.Should().HaveCount(500);
        incidents.Should().HaveCount(40);
        var report = DoraMetrics.Compute("shop", "production", From, To, rollouts, incidents);

        // Deployed: 500 - 50 aborted - 20 failed = 430, over 70 days = 6.142857 a day: elite (several a day).
        report.DeploymentFrequency.Samples.Should().Be(430);
        report.DeploymentFrequency.Value.Should().BeApproximately(430.0 / 70, 1e-9);
        report.DeploymentFrequency.Band.Should().Be(DoraBand.Elite);

        // Lead times of the 430: even k give 2 h, odd k 26 h. Even k: 250, minus the 10 failed ones with even k
        // (k = 28, 78, ..., 478) = 240; odd: 250 - 50 aborted (all odd) - 10 failed = 190. Sorted, the 215th and
        // 216th are 2 h: median 2 h (elite, under a day); nearest rank 90%: ceil(387) = 387th > 240: 26 h.
        report.LeadTimeMedian.Samples.Should().Be(430);
        report.LeadTimeMedian.Value.Should().BeApproximately(2, 1e-9);
        report.LeadTimeMedian.Band.Should().Be(DoraBand.Elite);
        report.LeadTimeP90.Value.Should().BeApproximately(26, 1e-9);

        // Change failures: 50 rolled back + 40 aborted with an incident = 90, over every rollout that ended, 500:
        // 18% (low: above 15%). The 10 aborted without an incident and the 20 failed count in the denominator only.
        report.ChangeFailureRate.Samples.Should().Be(500);
        report.ChangeFailureRate.Value.Should().BeApproximately(0.18, 1e-12);
        report.ChangeFailureRate.Band.Should().Be(DoraBand.Low);
        report.ChangeFailureRate.Text.Should().Be("90 of 500 rollouts rolled back or linked to an incident: 18%");

        // Time to restore: 15, 30, ..., 600 min; the 20th and 21st are 300 and 315 min: median 307.5 min = 5.125 h (high).
        report.TimeToRestore.Samples.Should().Be(40);
        report.TimeToRestore.Value.Should().BeApproximately(5.125, 1e-9);
        report.TimeToRestore.Band.Should().Be(DoraBand.High);
        report.BandsFrom.Should().Be("2023 Accelerate State of DevOps Report (DORA)");
    }

    [Fact(Timeout = 10_000)]
    public void Compute_SeededHistory_WeeklyTrendAsWorkedOut()
    {
        var (rollouts, incidents) = History();
        var weeks = DoraMetrics.Compute(null, null, From, To, rollouts, incidents).Weeks;
        weeks.Should().HaveCount(10);
        weeks.Select(w => w.Start).Should().Equal(Enumerable.Range(0, 10).Select(i => From.AddDays(7 * i)));

        // Week 1: rollouts created in the first 168 h, k = 0..55 (56). Aborted: k = 5, 15, ..., 55 (6, all with an
        // incident); failed: k = 3, 28, 53 (3); deployed 56 - 9 = 47. Failures: rolled back k = 0, 10, ..., 50 (6) +
        // 6 incidents = 12 of 56. Lead: deployed even k: 28 even - 1 failed (28) = 27 at 2 h, odd 20 at 26 h: median 2 h.
        // Incidents opened that week: those of k = 5..55 (opened 1 h later, still in the week; k = 55 at 166 h): 6,
        // resolved after 15, 30, ..., 90 min: median (45 + 60) / 2 = 52.5 min.
        var first = weeks[0];
        first.Rollouts.Should().Be(56);
        first.Deployments.Should().Be(47);
        first.ChangeFailures.Should().Be(12);
        first.ChangeFailureRate.Should().BeApproximately(12.0 / 56, 1e-12);
        first.LeadTimeMedianHours.Should().BeApproximately(2, 1e-9);
        first.TimeToRestoreMedianHours.Should().BeApproximately(52.5 / 60, 1e-9);

        // Week 10 (days 63-70, hours 1512-1680): no rollout (the last, k = 499, is at 1497 h).
        weeks[9].Rollouts.Should().Be(0);
        weeks[9].ChangeFailureRate.Should().BeNull();
        weeks.Sum(w => w.Rollouts).Should().Be(500);
        weeks.Sum(w => w.ChangeFailures).Should().Be(90);
    }

    [Theory(Timeout = 5_000)]
    [InlineData(2.0, DoraBand.Elite)]
    [InlineData(1.0, DoraBand.Elite)]
    [InlineData(0.5, DoraBand.High)]
    [InlineData(1.0 / 7, DoraBand.High)]
    [InlineData(0.1, DoraBand.Medium)]
    [InlineData(1.0 / 30, DoraBand.Medium)]
    [InlineData(0.01, DoraBand.Low)]
    public void FrequencyBand_Boundaries_AsTheReportDraws(double perDay, DoraBand band)
    {
        DoraMetrics.FrequencyBand(perDay).Should().Be(band);
    }

    [Fact(Timeout = 5_000)]
    public void Bands_Boundaries_AsTheReportDraws()
    {
        DoraMetrics.LeadBand(23.9).Should().Be(DoraBand.Elite);
        DoraMetrics.LeadBand(24).Should().Be(DoraBand.High);
        DoraMetrics.LeadBand(24 * 7).Should().Be(DoraBand.High);
        DoraMetrics.LeadBand(24 * 30).Should().Be(DoraBand.Medium);
        DoraMetrics.LeadBand(24 * 31).Should().Be(DoraBand.Low);
        DoraMetrics.FailureBand(0.05).Should().Be(DoraBand.Elite);
        DoraMetrics.FailureBand(0.10).Should().Be(DoraBand.High);
        DoraMetrics.FailureBand(0.15).Should().Be(DoraBand.Medium);
        DoraMetrics.FailureBand(0.16).Should().Be(DoraBand.Low);
        DoraMetrics.RestoreBand(0.9).Should().Be(DoraBand.Elite);
        DoraMetrics.RestoreBand(23).Should().Be(DoraBand.High);
        DoraMetrics.RestoreBand(24 * 7).Should().Be(DoraBand.Medium);
        DoraMetrics.RestoreBand(24 * 8).Should().Be(DoraBand.Low);
    }

    [Fact(Timeout = 5_000)]
    public void Compute_NoHistory_SaysSoWithoutBands()
    {
        var report = DoraMetrics.Compute(null, null, From, To, [], []);
        report.DeploymentFrequency.Value.Should().Be(0);
        report.LeadTimeMedian.Value.Should().BeNull();
        report.LeadTimeMedian.Band.Should().BeNull();
        report.ChangeFailureRate.Text.Should().Be("no rollout ended");
        report.TimeToRestore.Text.Should().Be("no incident resolved");
    }
}
