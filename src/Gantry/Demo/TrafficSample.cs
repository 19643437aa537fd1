using System.Collections.Concurrent;
using System.Net;

namespace Gantry.Demo;

/// <summary>What a burst of requests saw: per-request status and latency.</summary>
internal sealed record TrafficSample(int Requests, int Errors, double[] LatenciesSeconds)
{
    public double ErrorRate => Requests == 0 ? 0 : (double)Errors / Requests;

    /// <summary>Nearest-rank percentile, in seconds.</summary>
    public double Percentile(double p)
    {
        if (LatenciesSeconds.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(p / 100 * LatenciesSeconds.Length);
        return LatenciesSeconds[Math.Clamp(rank - 1, 0, LatenciesSeconds.Length - 1)];
    }

    /// <summary>Sends <paramref name="total"/> GETs with <paramref name="concurrency"/> workers; 5xx and failures are errors.</summary>
    public static async Task<TrafficSample> CollectAsync(HttpClient client, Uri url, int total, int concurrency, TimeProvider time, CancellationToken ct)
    {
        var latencies = new ConcurrentBag<double>();
        var errors = 0;
        var next = 0;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= total)
            {
                var start = time.GetTimestamp();
                try
                {
                    using var response = await client.GetAsync(url, ct);
                    await response.Content.LoadIntoBufferAsync(ct);
                    if (response.StatusCode >= HttpStatusCode.InternalServerError)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }

                latencies.Add(time.GetElapsedTime(start).TotalSeconds);
            }
        });
        await Task.WhenAll(workers);
        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        return new TrafficSample(total, errors, sorted);
    }
}
