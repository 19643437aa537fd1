using System.Collections.Immutable;
using Gantry.Core.Manifest;

namespace Gantry.Core.Analysis.Sequential;

/// <summary>One look's new counts: requests and errors of each side since the previous look.</summary>
public sealed record CountBatch(long CanaryTrials, long CanaryEvents, long BaselineTrials, long BaselineEvents);

/// <summary>
/// The anytime-valid test of error counts (after Lindon and Malek, NeurIPS 2022). Given the errors of one look,
/// which side each fell on is binomial: on the canary with probability q = n_c / (n_c + n_b) when both sides fail
/// at the same rate, and lambda q / (lambda q + 1 - q) when the canary fails lambda times as often. The product
/// over looks of the likelihood ratio of lambda against the allowed ratio is a nonnegative supermartingale
/// under the null, for any traffic split and any split that changes between looks; a mixture over a grid of
/// ratios is one too, so by Ville's inequality it reaches 1 / alpha with probability at most alpha, ever. Given
/// both totals the exact null is hypergeometric, which a convex statistic's expectation can only lower
/// (Hoeffding, 1963): the binomial ratio stays valid. Only the two counts per side are needed.
/// </summary>
public sealed record CountEvidence(ImmutableArray<double> LogRatios, long CanaryTrials, long CanaryEvents, long BaselineTrials, long BaselineEvents)
{
    /// <summary>Rate ratios of the mixture, as multiples of the allowed ratio (and their inverses for a decrease).</summary>
    public static readonly ImmutableArray<double> Multiples = [1.1, 1.25, 1.5, 2, 3, 5, 10, 30, 100];

    public static CountEvidence Start(JudgeDirection direction) =>
        new(ImmutableArray.Create(new double[Ratios(direction, 0).Length]), 0, 0, 0, 0);

    /// <summary>The mixture's alternatives and the nulls they are tested against, for a direction and an allowed increase.</summary>
    public static (double Alternative, double Null)[] Ratios(JudgeDirection direction, double allowed)
    {
        var up = Multiples.Select(m => ((1 + allowed) * m, 1 + allowed));
        var down = Multiples.Select(m => (1 / ((1 + allowed) * m), 1 / (1 + allowed)));
        return direction switch
        {
            JudgeDirection.Increase => [.. up],
            JudgeDirection.Decrease => [.. down],
            _ => [.. up, .. down],
        };
    }

    /// <summary>The evidence after one more look.</summary>
    public CountEvidence Add(CountBatch batch, JudgeDirection direction, double allowed) => Add(batch, batch, direction, allowed);

    /// <summary>
    /// The evidence after one more look whose counts depend on the direction tested (<paramref name="up"/> for the
    /// alternatives of a higher canary rate, <paramref name="down"/> for a lower one); the totals follow <paramref name="up"/>
    /// unless only a decrease is tested.
    /// </summary>
    public CountEvidence Add(CountBatch up, CountBatch down, JudgeDirection direction, double allowed)
    {
        var ratios = Ratios(direction, allowed);
        var logs = LogRatios.ToBuilder();
        for (var i = 0; i < ratios.Length; i++)
        {
            logs[i] += LogRatio(ratios[i].Alternative > 1 ? up : down, ratios[i].Alternative, ratios[i].Null);
        }

        var batch = direction == JudgeDirection.Decrease ? down : up;
        return new CountEvidence(logs.MoveToImmutable(), CanaryTrials + batch.CanaryTrials, CanaryEvents + batch.CanaryEvents,
            BaselineTrials + batch.BaselineTrials, BaselineEvents + batch.BaselineEvents);
    }

    /// <summary>The e-value: the mixture's likelihood ratio, the evidence against the null (1 is none).</summary>
    public double EValue => Math.Exp(LogMixture(LogRatios));

    /// <summary>Which way the strongest alternative points (null while there is no evidence).</summary>
    public SequentialOutcome Leaning(JudgeDirection direction, double allowed)
    {
        var ratios = Ratios(direction, allowed);
        var best = 0;
        for (var i = 1; i < LogRatios.Length; i++)
        {
            best = LogRatios[i] > LogRatios[best] ? i : best;
        }

        return ratios[best].Alternative > 1 ? SequentialOutcome.Higher : SequentialOutcome.Lower;
    }

    public double CanaryRate => CanaryTrials == 0 ? double.NaN : CanaryEvents / (double)CanaryTrials;

    public double BaselineRate => BaselineTrials == 0 ? double.NaN : BaselineEvents / (double)BaselineTrials;

    /// <summary>The log likelihood ratio of one look's errors: rate ratio <paramref name="alternative"/> against <paramref name="nullRatio"/>.</summary>
    public static double LogRatio(CountBatch batch, double alternative, double nullRatio)
    {
        var events = batch.CanaryEvents + batch.BaselineEvents;
        if (events == 0 || batch.CanaryTrials <= 0 || batch.BaselineTrials <= 0)
        {
            return 0;
        }

        var q = batch.CanaryTrials / (double)(batch.CanaryTrials + batch.BaselineTrials);
        var t1 = Share(alternative, q);
        var t0 = Share(nullRatio, q);
        return (batch.CanaryEvents * Math.Log(t1 / t0)) + (batch.BaselineEvents * Math.Log((1 - t1) / (1 - t0)));
    }

    /// <summary>The chance that an error is the canary's when the canary fails <paramref name="ratio"/> times as often and gets share <paramref name="q"/> of the requests.</summary>
    public static double Share(double ratio, double q) => ratio * q / ((ratio * q) + 1 - q);

    /// <summary>log of the mean of exp(values), computed without overflow.</summary>
    public static double LogMixture(IReadOnlyList<double> logs)
    {
        var max = logs.Max();
        var sum = logs.Sum(l => Math.Exp(l - max));
        return max + Math.Log(sum / logs.Count);
    }

    /// <summary>
    /// The smallest canary error rate that would have been detected by now, were the canary's errors in one look
    /// with these totals and the baseline's rate as observed (null: no rate, even every request failing, would).
    /// </summary>
    public double? DetectableCanaryRate(double alpha, double allowed)
    {
        if (CanaryTrials == 0 || BaselineTrials == 0)
        {
            return null;
        }

        var threshold = Math.Log(1 / alpha);
        bool Detects(long errors) => LogMixture(Ratios(JudgeDirection.Increase, allowed)
            .Select(r => LogRatio(new CountBatch(CanaryTrials, errors, BaselineTrials, BaselineEvents), r.Alternative, r.Null)).ToList()) >= threshold;
        if (!Detects(CanaryTrials))
        {
            return null;
        }

        long low = 0, high = CanaryTrials;
        while (low < high)
        {
            var mid = low + ((high - low) / 2);
            (low, high) = Detects(mid) ? (low, mid) : (mid + 1, high);
        }

        return low / (double)CanaryTrials;
    }
}
