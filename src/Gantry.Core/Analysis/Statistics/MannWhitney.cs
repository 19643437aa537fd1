using MathNet.Numerics.Distributions;

namespace Gantry.Core.Analysis.Statistics;

/// <summary>
/// The outcome of comparing a canary sample with a baseline sample: the Mann-Whitney U statistic and its
/// two-sided p-value (normal approximation with tie correction and continuity correction), and the
/// Hodges-Lehmann estimate of the shift (canary minus baseline) with its confidence interval.
/// </summary>
public sealed record ShiftEstimate(int CanaryCount, int BaselineCount, double U, double PValue, double Shift, double Lower, double Upper, double Confidence)
{
    /// <summary>Whether the interval excludes no shift at all: the samples differ at this confidence.</summary>
    public bool Significant => Lower > 0 || Upper < 0;
}

/// <summary>The Mann-Whitney U test and the Hodges-Lehmann shift estimator, as Kayenta's judge uses them.</summary>
public static class MannWhitney
{
    /// <summary>At most this many values of each sample are compared (evenly thinned beyond it), bounding the pairwise differences.</summary>
    public const int MaxSample = 1000;

    public static ShiftEstimate Compare(IReadOnlyList<double> canary, IReadOnlyList<double> baseline, double confidence)
    {
        if (canary.Count == 0 || baseline.Count == 0)
        {
            throw new ArgumentException("both samples need values");
        }

        if (confidence is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence is between 0 and 1");
        }

        var x = Thin(canary);
        var y = Thin(baseline);
        int n1 = x.Length, n2 = y.Length, n = n1 + n2;

        // Ranks of the pooled sample, ties sharing their average rank.
        var pooled = x.Select(v => (Value: v, Canary: true)).Concat(y.Select(v => (Value: v, Canary: false))).OrderBy(p => p.Value).ToArray();
        double rankSumCanary = 0, tieTerm = 0;
        for (var i = 0; i < n;)
        {
            var j = i;
            while (j + 1 < n && pooled[j + 1].Value == pooled[i].Value)
            {
                j++;
            }

            var rank = (i + j + 2) / 2.0;
            var ties = j - i + 1;
            tieTerm += (double)ties * ties * ties - ties;
            for (var k = i; k <= j; k++)
            {
                rankSumCanary += pooled[k].Canary ? rank : 0;
            }

            i = j + 1;
        }

        var u = rankSumCanary - (n1 * (n1 + 1) / 2.0);
        var mean = n1 * (double)n2 / 2;
        var variance = n1 * (double)n2 / 12 * ((n + 1) - (tieTerm / (n * (n - 1.0))));
        double p;
        if (variance <= 0)
        {
            p = 1;
        }
        else
        {
            var z = Math.Max(0, Math.Abs(u - mean) - 0.5) / Math.Sqrt(variance);
            p = Math.Min(1, 2 * (1 - Normal.CDF(0, 1, z)));
        }

        // Hodges-Lehmann: the median of all pairwise differences, and order statistics of them as the interval.
        var differences = new double[n1 * n2];
        var d = 0;
        foreach (var a in x)
        {
            foreach (var b in y)
            {
                differences[d++] = a - b;
            }
        }

        Array.Sort(differences);
        var m = differences.Length;
        var shift = m % 2 == 1 ? differences[m / 2] : (differences[(m / 2) - 1] + differences[m / 2]) / 2;
        // The interval runs from the c-th to the (m + 1 - c)-th ordered difference, c counted from 1 (as R's wilcox.test
        // and Kayenta take it); at least the extremes.
        var zc = Normal.InvCDF(0, 1, 1 - ((1 - confidence) / 2));
        var c = (int)Math.Floor(mean - (zc * Math.Sqrt(n1 * (double)n2 * (n + 1) / 12)));
        c = Math.Clamp(c, 1, (m + 1) / 2);
        return new ShiftEstimate(n1, n2, u, p, shift, differences[c - 1], differences[m - c], confidence);
    }

    private static double[] Thin(IReadOnlyList<double> values)
    {
        if (values.Count <= MaxSample)
        {
            return [.. values];
        }

        var step = values.Count / (double)MaxSample;
        return [.. Enumerable.Range(0, MaxSample).Select(i => values[(int)(i * step)])];
    }
}
