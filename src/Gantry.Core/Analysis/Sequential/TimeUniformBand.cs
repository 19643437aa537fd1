namespace Gantry.Core.Analysis.Sequential;

/// <summary>
/// A confidence band around an empirical distribution function that holds at every sample size at once:
/// with probability at least 1 - alpha, for every n, sup_x |F_n(x) - F(x)| &lt;= Width(n, alpha). It is the
/// Dvoretzky-Kiefer-Wolfowitz-Massart inequality, P(sup |F_n - F| &gt; e) &lt;= 2 exp(-2 n e^2), spent over all sample
/// sizes with alpha_n = alpha / (n (n + 1)), which sum to alpha. Howard and Ramdas' stitched band widens with
/// log log n instead of log n (about 10% narrower at a thousand samples, 25% at a hundred thousand); this one
/// needs no constant taken on trust and holds whatever decides how many samples arrive when, which a closed
/// loop of clients makes depend on the latencies themselves.
/// </summary>
public static class TimeUniformBand
{
    /// <summary>The band's half-width after <paramref name="n"/> samples (1 with none: nothing is known).</summary>
    public static double Width(long n, double alpha)
    {
        if (alpha is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha is between 0 and 1");
        }

        if (n <= 0)
        {
            return 1;
        }

        var size = (double)n;
        return Math.Min(1, Math.Sqrt(Math.Log(2 * size * (size + 1) / alpha) / (2 * size)));
    }

    /// <summary>The same band for a fixed sample size looked at once (plain DKW-Massart), to show what sequential looks cost.</summary>
    public static double FixedWidth(long n, double alpha) => n <= 0 ? 1 : Math.Min(1, Math.Sqrt(Math.Log(2 / alpha) / (2.0 * n)));
}
