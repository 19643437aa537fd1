using System.Collections.Immutable;

namespace Gantry.Core.Analysis.Sequential;

/// <summary>
/// Every latency seen so far by a sequential judge, as counts in buckets 1% wide from 1 microsecond to
/// 1,000 seconds: an unbounded stream in 2,090 numbers. Bucket j holds the values in (e(j-1), e(j)] with
/// e(j) = 1 us x 1.01^j; the first holds everything up to 1 us, the last everything above 1,000 s. A test of
/// equal distributions on bucketed values is a test of the values themselves at that resolution: two equal
/// distributions stay equal when bucketed. Immutable: <see cref="Add"/> returns a new sketch.
/// </summary>
public sealed record LatencySketch(ImmutableArray<long> Buckets, long Count)
{
    /// <summary>The relative width of a bucket.</summary>
    public const double Resolution = 0.01;

    /// <summary>The upper edge of the first bucket, in seconds.</summary>
    public const double Smallest = 1e-6;

    public static readonly int BucketCount = (int)Math.Ceiling(Math.Log(1e9) / Math.Log(1 + Resolution)) + 2;

    private static readonly double LogStep = Math.Log(1 + Resolution);

    public static LatencySketch Empty { get; } = new(ImmutableArray.Create(new long[BucketCount]), 0);

    /// <summary>The bucket of a value in seconds.</summary>
    public static int IndexOf(double seconds) =>
        !(seconds > Smallest) ? 0 : double.IsPositiveInfinity(seconds) ? BucketCount - 1 : Math.Min(BucketCount - 1, (int)Math.Ceiling(Math.Log(seconds / Smallest) / LogStep));

    /// <summary>The upper edge of bucket <paramref name="index"/> (+Inf for the last).</summary>
    public static double UpperEdge(int index) => index >= BucketCount - 1 ? double.PositiveInfinity : Smallest * Math.Pow(1 + Resolution, index);

    /// <summary>The lower edge of bucket <paramref name="index"/> (0 for the first).</summary>
    public static double LowerEdge(int index) => index <= 0 ? 0 : UpperEdge(index - 1);

    /// <summary>This sketch with more values (NaN values are skipped).</summary>
    public LatencySketch Add(IEnumerable<double> seconds)
    {
        var counts = Buckets.ToBuilder();
        var added = 0L;
        foreach (var value in seconds)
        {
            if (!double.IsNaN(value))
            {
                counts[IndexOf(value)]++;
                added++;
            }
        }

        return added == 0 ? this : new LatencySketch(counts.MoveToImmutable(), Count + added);
    }

    /// <summary>How many values are at or below each bucket's upper edge.</summary>
    public long[] Cumulative()
    {
        var cumulative = new long[Buckets.Length];
        var sum = 0L;
        for (var i = 0; i < cumulative.Length; i++)
        {
            sum += Buckets[i];
            cumulative[i] = sum;
        }

        return cumulative;
    }

    /// <summary>The upper edge of the bucket holding the <paramref name="level"/> quantile (NaN when empty).</summary>
    public double Quantile(double level) => Count == 0 ? double.NaN : UpperEdge(IndexAtLevel(Cumulative(), Count, level));

    /// <summary>The first bucket whose cumulative share reaches <paramref name="level"/>.</summary>
    public static int IndexAtLevel(long[] cumulative, long count, double level)
    {
        var target = Math.Max(1, (long)Math.Ceiling(level * count));
        var index = Array.BinarySearch(cumulative, target);
        if (index < 0)
        {
            return Math.Min(cumulative.Length - 1, ~index);
        }

        while (index > 0 && cumulative[index - 1] >= target)
        {
            index--;
        }

        return index;
    }
}
