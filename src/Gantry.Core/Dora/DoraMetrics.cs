using Gantry.Core.Rollouts;
using static System.FormattableString;

namespace Gantry.Core.Dora;

/// <summary>
/// One deploy rollout as DORA sees it: the week it was created in (0 for the week holding the period's start,
/// see <see cref="DoraMetrics.WeekIndex"/>), its outcome, its lead time (commit to the end of its rollout, when
/// both are known), and whether an incident is linked to it.
/// </summary>
public readonly record struct DeploymentFact(int Week, TimeSpan? LeadTime, RolloutPhase Phase, bool Incident)
{
    /// <summary>It reached its environment (and may have been rolled back later).</summary>
    public bool Deployed => Phase is RolloutPhase.Succeeded or RolloutPhase.RolledBack;

    /// <summary>A change failure: rolled back, or linked to an incident.</summary>
    public bool ChangeFailure => Phase == RolloutPhase.RolledBack || Incident;
}

/// <summary>The DORA facts of a rollout as a store indexes them when it is written.</summary>
public static class DeploymentFacts
{
    /// <summary>The lead time: from the release's commit to the end of its rollout, when both are known (never negative).</summary>
    public static TimeSpan? LeadTimeOf(RolloutState rollout) =>
        rollout.FinishedAt is { } end && rollout.Release.CommitTime is { } commit ? (end > commit ? end - commit : TimeSpan.Zero) : null;

    /// <summary>A rollout's outcome in a stable order, for an index: succeeded, rolled back, aborted, failed, still running.</summary>
    public static int OutcomeOf(RolloutPhase phase) => phase switch
    {
        RolloutPhase.Succeeded => 0,
        RolloutPhase.RolledBack => 1,
        RolloutPhase.Aborted => 2,
        RolloutPhase.Failed => 3,
        _ => 4,
    };
}

/// <summary>One incident as DORA sees it: opened and (when it was) resolved.</summary>
public readonly record struct RestoreFact(DateTimeOffset OpenedAt, DateTimeOffset? ResolvedAt);

public enum DoraBand
{
    Elite,
    High,
    Medium,
    Low,
}

/// <summary>A metric's value, how many facts it rests on, and its band (null without data).</summary>
public sealed record DoraMetric(double? Value, string Unit, int Samples, DoraBand? Band, string Text);

public sealed record DoraWeek(DateTimeOffset Start, int Deployments, int Rollouts, int ChangeFailures, double? ChangeFailureRate, double? LeadTimeMedianHours, double? TimeToRestoreMedianHours);

/// <summary>The four keys over a period, with their bands and a weekly trend.</summary>
public sealed record DoraReport(
    string? Service, string? Environment, DateTimeOffset From, DateTimeOffset To,
    DoraMetric DeploymentFrequency, DoraMetric LeadTimeMedian, DoraMetric LeadTimeP90, DoraMetric ChangeFailureRate, DoraMetric TimeToRestore,
    IReadOnlyList<DoraWeek> Weeks, string BandsFrom);

/// <summary>
/// DORA's four keys from Gantry's own records. Deployment frequency: deploy rollouts that reached their
/// environment, per day. Lead time: commit time of the release to the end of its successful rollout (median
/// and 90th percentile). Change failure rate: deploy rollouts rolled back or linked to an incident, over every
/// deploy rollout that ended. Time to restore: incident opened to resolved (median). Medians of an even count
/// are the mean of the two middle values; the 90th percentile is the nearest rank.
/// </summary>
public static class DoraMetrics
{
    /// <summary>Where the bands come from.</summary>
    public const string BandsSource = "2023 Accelerate State of DevOps Report (DORA)";

    public static DoraReport Compute(string? service, string? environment, DateTimeOffset from, DateTimeOffset to, IReadOnlyList<DeploymentFact> rollouts, IReadOnlyList<RestoreFact> incidents)
    {
        // One pass over the rollouts (a million of them must take well under a second), bucketed by week.
        var days = Math.Max((to - from).TotalDays, 1e-9);
        var firstWeek = WeekOf(from);
        var weekCount = Math.Max(1, (int)Math.Ceiling((to - firstWeek).TotalDays / 7));
        var weekRollouts = new int[weekCount];
        var weekDeployed = new int[weekCount];
        var weekFailures = new int[weekCount];
        var weekLeads = new List<double>?[weekCount];
        var weekRestores = new List<double>?[weekCount];
        var leads = new List<double>(rollouts.Count);
        int ended = 0, deployed = 0, failures = 0;
        for (var n = 0; n < rollouts.Count; n++)
        {
            var r = rollouts[n];
            if (!r.Phase.IsTerminal())
            {
                continue;
            }

            var week = Math.Clamp(r.Week, 0, weekCount - 1);
            ended++;
            weekRollouts[week]++;
            if (r.ChangeFailure)
            {
                failures++;
                weekFailures[week]++;
            }

            if (r.Deployed)
            {
                deployed++;
                weekDeployed[week]++;
                if (r.LeadTime is { } lead)
                {
                    var hours = Math.Max(0, lead.TotalHours);
                    leads.Add(hours);
                    (weekLeads[week] ??= []).Add(hours);
                }
            }
        }

        var restores = new List<double>(incidents.Count);
        foreach (var i in incidents)
        {
            if (i.ResolvedAt is { } resolved)
            {
                var hours = (resolved - i.OpenedAt).TotalHours;
                restores.Add(hours);
                var week = Math.Clamp((int)((i.OpenedAt - firstWeek).Ticks / TimeSpan.TicksPerDay / 7), 0, weekCount - 1);
                (weekRestores[week] ??= []).Add(hours);
            }
        }

        var leadArray = leads.ToArray();
        var restoreArray = restores.ToArray();
        var perDay = deployed / days;
        var frequency = new DoraMetric(perDay, "per day", deployed, deployed == 0 ? DoraBand.Low : FrequencyBand(perDay),
            Invariant($"{deployed} deployments in {days:0.#} days: {Rate(perDay)}"));
        var median = Median(leadArray);
        var p90 = NearestRank(leadArray, 0.9);
        var leadMedian = new DoraMetric(median, "hours", leadArray.Length, median is { } m ? LeadBand(m) : null,
            median is { } mm ? $"median {Hours(mm)} from commit to production ({leadArray.Length} deployments with a commit time)" : "no deployment with a commit time");
        var leadP90 = new DoraMetric(p90, "hours", leadArray.Length, p90 is { } p ? LeadBand(p) : null, p90 is { } pp ? $"90th percentile {Hours(pp)}" : "no data");
        double? cfr = ended == 0 ? null : (double)failures / ended;
        var changeFailure = new DoraMetric(cfr, "ratio", ended, cfr is { } c ? FailureBand(c) : null,
            cfr is { } cc ? Invariant($"{failures} of {ended} rollouts rolled back or linked to an incident: {cc * 100:0.#}%") : "no rollout ended");
        var ttr = Median(restoreArray);
        var restore = new DoraMetric(ttr, "hours", restoreArray.Length, ttr is { } t ? RestoreBand(t) : null,
            ttr is { } tt ? $"median {Hours(tt)} from incident opened to resolved ({restoreArray.Length} resolved)" : "no incident resolved");

        var weeks = new List<DoraWeek>(weekCount);
        for (var w = 0; w < weekCount; w++)
        {
            weeks.Add(new DoraWeek(firstWeek.AddDays(7 * w), weekDeployed[w], weekRollouts[w], weekFailures[w],
                weekRollouts[w] == 0 ? null : (double)weekFailures[w] / weekRollouts[w],
                Median(weekLeads[w]?.ToArray() ?? []), Median(weekRestores[w]?.ToArray() ?? [])));
        }

        return new DoraReport(service, environment, from, to, frequency, leadMedian, leadP90, changeFailure, restore, weeks, BandsSource);
    }

    /// <summary>Which week of a period starting at <paramref name="from"/> holds <paramref name="at"/> (weeks start on Monday, UTC).</summary>
    public static int WeekIndex(DateTimeOffset from, DateTimeOffset at) => (int)Math.Floor((at - WeekOf(from)).TotalDays / 7);

    /// <summary>The Monday 00:00 UTC that starts the week of <paramref name="at"/>.</summary>
    public static DateTimeOffset WeekOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Date, TimeSpan.Zero).AddDays(-(((int)utc.DayOfWeek + 6) % 7));
    }

    public static double? Median(double[] values)
    {
        if (values.Length == 0)
        {
            return null;
        }

        Array.Sort(values);
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    /// <summary>The nearest-rank percentile: the smallest value with at least <paramref name="q"/> of the values at or below it.</summary>
    public static double? NearestRank(double[] values, double q)
    {
        if (values.Length == 0)
        {
            return null;
        }

        Array.Sort(values);
        return values[Math.Clamp((int)Math.Ceiling(q * values.Length) - 1, 0, values.Length - 1)];
    }

    // Bands of the 2023 report: elite deploys on demand (several a day), high between daily and weekly,
    // medium between weekly and monthly; lead time under a day, a week, a month; change failure rate 5%,
    // 10%, 15%; failed deployment recovery under an hour, a day, a week.
    public static DoraBand FrequencyBand(double perDay) => perDay >= 1 ? DoraBand.Elite : perDay >= 1.0 / 7 ? DoraBand.High : perDay >= 1.0 / 30 ? DoraBand.Medium : DoraBand.Low;

    public static DoraBand LeadBand(double hours) => hours < 24 ? DoraBand.Elite : hours <= 24 * 7 ? DoraBand.High : hours <= 24 * 30 ? DoraBand.Medium : DoraBand.Low;

    public static DoraBand FailureBand(double rate) => rate <= 0.05 ? DoraBand.Elite : rate <= 0.10 ? DoraBand.High : rate <= 0.15 ? DoraBand.Medium : DoraBand.Low;

    public static DoraBand RestoreBand(double hours) => hours < 1 ? DoraBand.Elite : hours < 24 ? DoraBand.High : hours <= 24 * 7 ? DoraBand.Medium : DoraBand.Low;

    private static string Rate(double perDay) => perDay >= 1 ? Invariant($"{perDay:0.##} per day") : perDay * 7 >= 1 ? Invariant($"{perDay * 7:0.##} per week") : Invariant($"{perDay * 30:0.##} per month");

    private static string Hours(double hours) => hours < 1 ? Invariant($"{hours * 60:0.#} min") : hours < 48 ? Invariant($"{hours:0.#} h") : Invariant($"{hours / 24:0.#} days");
}
