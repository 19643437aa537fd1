using System.Numerics;

namespace Gantry.Proxy.Metrics;

/// <summary>
/// A log-linear histogram of latencies in microseconds: exact below 32 us, then 32 sub-buckets per
/// power of two (bucket width at most 1/32 of its value, so a percentile read from the bucket's
/// middle is within about 1.6% of the true sample). Recording is lock-free.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBits = 5;
    private const int Sub = 1 << SubBits;

    /// <summary>Covers up to 2^40 us (about 12 days).</summary>
    public const int BucketCount = Sub + (40 - SubBits) * Sub;

    private readonly long[] counts = new long[BucketCount];
    private long total;

    public long Count => Volatile.Read(ref total);

    public static int IndexOf(long micros)
    {
        if (micros < Sub)
        {
            return (int)Math.Max(0, micros);
        }

        var exponent = BitOperations.Log2((ulong)micros);
        var mantissa = (int)(micros >> (exponent - SubBits));
        var index = Sub + ((exponent - SubBits) * Sub) + (mantissa - Sub);
        return Math.Min(index, BucketCount - 1);
    }

    /// <summary>The lower and upper bound (exclusive) of a bucket, in microseconds.</summary>
    public static (long Low, long High) BoundsOf(int index)
    {
        if (index < Sub)
        {
            return (index, index + 1);
        }

        var exponent = ((index - Sub) / Sub) + SubBits;
        var mantissa = ((index - Sub) % Sub) + Sub;
        var shift = exponent - SubBits;
        return ((long)mantissa << shift, (long)(mantissa + 1) << shift);
    }

    public void Record(long micros)
    {
        Interlocked.Increment(ref counts[IndexOf(micros)]);
        Interlocked.Increment(ref total);
    }

    public void Clear()
    {
        Array.Clear(counts);
        Volatile.Write(ref total, 0);
    }

    /// <summary>Adds this histogram's counts into <paramref name="into"/>.</summary>
    public void AddTo(long[] into)
    {
        for (var i = 0; i < counts.Length; i++)
        {
            into[i] += Volatile.Read(ref counts[i]);
        }
    }

    /// <summary>The p-th percentile (0-100) of summed counts, in seconds: the middle of the bucket holding that rank.</summary>
    public static double Percentile(long[] counts, double p)
    {
        long n = 0;
        foreach (var c in counts)
        {
            n += c;
        }

        if (n == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Ceiling(p / 100 * n);
        rank = Math.Clamp(rank, 1, n);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                var (low, high) = BoundsOf(i);
                return (low + high - 1) / 2.0 / 1_000_000;
            }
        }

        return double.NaN;
    }
}
