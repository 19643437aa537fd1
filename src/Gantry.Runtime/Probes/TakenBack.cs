using Gantry.Core.Manifest;

namespace Gantry.Runtime.Probes;

/// <summary>
/// How a control plane judges an instance it takes back from a predecessor (a restart, or another replica's takeover):
/// the instance was serving, so it stays in traffic unless its readiness probe fails <c>failureThreshold</c> times in
/// a row, an interval apart, as a running instance's readiness changes. One slow answer on a busy machine at the
/// moment of a takeover must not take every instance out of the new leader's first table.
/// </summary>
public static class TakenBack
{
    /// <summary>
    /// Probes until one passes or <see cref="ProbeSpec.FailureThreshold"/> fail in a row; the failures in a row at
    /// the end (0 once one passed).
    /// </summary>
    public static async Task<int> MissesAsync(Func<CancellationToken, Task<bool>> probe, ProbeSpec readiness, TimeProvider time, CancellationToken ct)
    {
        var threshold = Math.Max(1, readiness.FailureThreshold);
        var misses = 0;
        while (!await probe(ct))
        {
            if (++misses >= threshold)
            {
                return misses;
            }

            await Task.Delay(readiness.Interval, time, ct);
        }

        return 0;
    }
}
