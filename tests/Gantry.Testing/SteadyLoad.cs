using System.Collections.Concurrent;
using System.Diagnostics;

namespace Gantry.Testing;

/// <summary>
/// Steady client traffic against a URL, as a user would send it, on a few connections; counts answers by
/// the X-App-Version header, and every error a client would see (non-2xx or a failed request).
/// </summary>
public sealed class SteadyLoad : IAsyncDisposable
{
    private readonly HttpClient client = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromSeconds(30), MaxConnectionsPerServer = 8 }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<string, long> versions = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> errors = new();
    private readonly Task[] workers;
    private readonly long[] answered;
    private readonly SortedDictionary<long, SortedDictionary<string, int>> timeline = [];
    private long requests;

    public SteadyLoad(Uri url, int connections = 4, TimeSpan? pause = null)
    {
        answered = new long[connections];
        workers = [.. Enumerable.Range(0, connections).Select(w => Task.Run(() => RunAsync(w, url, pause ?? TimeSpan.FromMilliseconds(5))))];
    }

    public long Requests => Interlocked.Read(ref requests);

    public IReadOnlyCollection<string> Errors => errors;

    public IReadOnlyDictionary<string, long> Versions => versions;

    private async Task RunAsync(int worker, Uri url, TimeSpan pause)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await client.GetAsync(url, stop.Token);
                var body = await response.Content.ReadAsStringAsync(stop.Token);
                Interlocked.Increment(ref requests);
                if (!response.IsSuccessStatusCode)
                {
                    errors.Enqueue($"{At()} {(int)response.StatusCode}: {body.TrimEnd()}");
                    Count("error");
                }
                else if (response.Headers.TryGetValues("X-App-Version", out var v))
                {
                    versions.AddOrUpdate(v.First(), 1, (_, n) => n + 1);
                    Count(v.First());
                }

                Interlocked.Increment(ref answered[worker]);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref requests);
                errors.Enqueue($"{At()} {ex.GetBaseException().Message}");
                Count("error");
                Interlocked.Increment(ref answered[worker]);
            }

            await Task.Delay(pause, CancellationToken.None);
        }
    }

    /// <summary>Counts an answer in the second it came (UTC), keeping the last five minutes.</summary>
    private void Count(string what)
    {
        var second = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        lock (timeline)
        {
            if (!timeline.TryGetValue(second, out var counts))
            {
                timeline[second] = counts = new(StringComparer.Ordinal);
                while (timeline.Count > 300)
                {
                    timeline.Remove(timeline.Keys.First());
                }
            }

            counts[what] = counts.GetValueOrDefault(what) + 1;
        }
    }

    /// <summary>
    /// The answers of the last <paramref name="seconds"/> seconds that had any, second by second (UTC), by version
    /// and errors: what a failed wait prints to tell a client that stalled from a version out of traffic.
    /// </summary>
    public string Timeline(int seconds = 30)
    {
        var from = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds;
        lock (timeline)
        {
            return string.Join("; ", timeline.Where(s => s.Key > from).Select(s =>
                $"{DateTimeOffset.FromUnixTimeSeconds(s.Key):HH:mm:ss} {string.Join(" ", s.Value.Select(c => $"{c.Key}={c.Value}"))}"));
        }
    }

    /// <summary>When an error was seen, in UTC, to set beside the servers' logs.</summary>
    private static string At() => DateTime.UtcNow.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Waits until at least <paramref name="count"/> more requests were answered.</summary>
    public async Task WaitForRequestsAsync(long count, TimeSpan timeout)
    {
        var target = Requests + count;
        var watch = Stopwatch.StartNew();
        while (Requests < target && watch.Elapsed < timeout)
        {
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits until every request in flight now has been answered and counted: each connection answers two more
    /// (the one it may be waiting on, then one sent after this call).
    /// </summary>
    public async Task SettleAsync(TimeSpan timeout)
    {
        var from = Enumerable.Range(0, answered.Length).Select(w => Interlocked.Read(ref answered[w])).ToArray();
        var watch = Stopwatch.StartNew();
        while (Enumerable.Range(0, answered.Length).Any(w => Interlocked.Read(ref answered[w]) < from[w] + 2) && watch.Elapsed < timeout)
        {
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        client.Dispose();
        stop.Dispose();
    }
}
