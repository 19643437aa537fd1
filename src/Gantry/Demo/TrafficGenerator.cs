using System.Collections.Concurrent;

namespace Gantry.Demo;

/// <summary>What clients saw between two readings: requests, errors (5xx and failed requests), and which version answered.</summary>
internal sealed record TrafficReading(long Requests, long Errors, IReadOnlyDictionary<string, long> ByVersion)
{
    public TrafficReading Since(TrafficReading earlier) => new(
        Requests - earlier.Requests,
        Errors - earlier.Errors,
        ByVersion.ToDictionary(kv => kv.Key, kv => kv.Value - earlier.ByVersion.GetValueOrDefault(kv.Key), StringComparer.Ordinal)
            .Where(kv => kv.Value > 0).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
}

/// <summary>Steady client traffic against one URL, as users would send it, counted the way a user would see it.</summary>
internal sealed class TrafficGenerator : IAsyncDisposable
{
    private readonly HttpClient client;
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<string, long> versions = new(StringComparer.Ordinal);
    private readonly Task[] workers;
    private long requests;
    private long errors;

    public TrafficGenerator(Uri url, int connections, TimeSpan pause, TimeProvider time)
    {
        client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        workers = [.. Enumerable.Range(0, connections).Select(_ => Task.Run(() => RunAsync(url, pause, time)))];
    }

    public TrafficReading Read() => new(Interlocked.Read(ref requests), Interlocked.Read(ref errors), new Dictionary<string, long>(versions, StringComparer.Ordinal));

    private async Task RunAsync(Uri url, TimeSpan pause, TimeProvider time)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await client.GetAsync(url, stop.Token);
                await response.Content.LoadIntoBufferAsync(stop.Token);
                Interlocked.Increment(ref requests);
                if ((int)response.StatusCode >= 500)
                {
                    Interlocked.Increment(ref errors);
                }
                else if (response.Headers.TryGetValues("X-App-Version", out var v))
                {
                    versions.AddOrUpdate(string.Join(',', v), 1, (_, n) => n + 1);
                }

                await Task.Delay(pause, time, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref requests);
                Interlocked.Increment(ref errors);
            }
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
