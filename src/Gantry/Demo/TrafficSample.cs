using System.Collections.Concurrent;
using System.Net;

namespace Gantry.Demo;

/// <summary>What clients saw of a burst of requests: answers, errors, and which version served them.</summary>
internal sealed record TrafficSample(int Requests, int Errors, IReadOnlyDictionary<string, int> ByVersion)
{
    /// <summary>Sends <paramref name="total"/> GETs with <paramref name="concurrency"/> workers; 5xx and failures are errors.</summary>
    public static async Task<TrafficSample> CollectAsync(HttpClient client, Uri url, int total, int concurrency, CancellationToken ct)
    {
        var versions = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var errors = 0;
        var next = 0;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= total)
            {
                try
                {
                    using var response = await client.GetAsync(url, ct);
                    await response.Content.LoadIntoBufferAsync(ct);
                    var version = response.Headers.TryGetValues("X-App-Version", out var v) ? string.Join(',', v) : "?";
                    versions.AddOrUpdate(version, 1, (_, n) => n + 1);
                    if (response.StatusCode >= HttpStatusCode.InternalServerError)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        });
        await Task.WhenAll(workers);
        return new TrafficSample(total, errors, versions);
    }
}
