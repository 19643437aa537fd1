namespace Gantry.Core.Analysis.Statistics;

/// <summary>
/// The shift of a high percentile (canary minus baseline) with a percentile-bootstrap confidence interval.
/// A rank test compares medians, so a canary that is slow on a few requests in twenty looks healthy to it;
/// the runbooks' "p99 rises" needs the tail itself compared. Quantiles are nearest-rank. The bootstrap is
/// seeded from the samples' sizes, so the same samples always give the same interval.
/// </summary>
public static class QuantileShift
{
    /// <summary>Bootstrap resamples per comparison.</summary>
    public const int Resamples = 2000;

    public static ShiftEstimate Compare(IReadOnlyList<double> canary, IReadOnlyList<double> baseline, double quantile, double confidence)
    {
        if (canary.Count == 0 || baseline.Count == 0)
        {
            throw new ArgumentException("both samples need values");
        }

        if (quantile is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(quantile), quantile, "the quantile is between 0 and 1");
        }

        if (confidence is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence is between 0 and 1");
        }

        var x = canary.Order().ToArray();
        var y = baseline.Order().ToArray();
        var shift = Of(x, quantile) - Of(y, quantile);
        var random = new Random(HashCode.Combine(x.Length, y.Length, quantile));
        var countsX = new int[x.Length];
        var countsY = new int[y.Length];
        var shifts = new double[Resamples];
        var atOrBelowZero = 0;
        for (var b = 0; b < Resamples; b++)
        {
            shifts[b] = Resampled(x, quantile, countsX, random) - Resampled(y, quantile, countsY, random);
            if (shifts[b] <= 0)
            {
                atOrBelowZero++;
            }
        }

        Array.Sort(shifts);
        var alpha = 1 - confidence;
        var lower = shifts[(int)Math.Floor(alpha / 2 * (Resamples - 1))];
        var upper = shifts[(int)Math.Ceiling((1 - (alpha / 2)) * (Resamples - 1))];

        // Two-sided bootstrap p-value: how often the resampled shift falls on the other side of zero.
        var below = atOrBelowZero / (double)Resamples;
        var p = Math.Min(1, 2 * Math.Min(below, 1 - below));
        return new ShiftEstimate(x.Length, y.Length, double.NaN, p, shift, lower, upper, confidence);
    }

    /// <summary>The nearest-rank quantile of a sorted sample.</summary>
    public static double Of(double[] sorted, double quantile) => sorted[Rank(sorted.Length, quantile)];

    private static int Rank(int n, double quantile) => Math.Clamp((int)Math.Ceiling(quantile * n) - 1, 0, n - 1);

    /// <summary>
    /// The quantile of a resample drawn with replacement from a sorted sample: the resample's k-th smallest
    /// value is the sample's value at the k-th smallest index drawn, found by counting draws per index.
    /// </summary>
    private static double Resampled(double[] sorted, double quantile, int[] counts, Random random)
    {
        var n = sorted.Length;
        Array.Clear(counts);
        for (var i = 0; i < n; i++)
        {
            counts[random.Next(n)]++;
        }

        var k = Rank(n, quantile);
        var seen = 0;
        for (var i = 0; i < n; i++)
        {
            seen += counts[i];
            if (seen > k)
            {
                return sorted[i];
            }
        }

        return sorted[n - 1];
    }
}
