using System.Diagnostics;
using System.Globalization;

namespace Gantry.Testing;

/// <summary>Debian's Prometheus on a free loopback port, in a temp dir, scraping the given targets every second.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly ChildProcess process;
    private readonly string folder;

    private PrometheusServer(ChildProcess process, string folder, Uri address)
    {
        this.process = process;
        this.folder = folder;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<PrometheusServer> StartAsync(int port, params string[] targets)
    {
        var binary = RealBinaries.Find("prometheus") ?? throw new InvalidOperationException("prometheus is not installed (apt-get install prometheus)");
        var folder = Directory.CreateTempSubdirectory("gantry-prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: gantry
                static_configs:
                  - targets: [{string.Join(", ", targets.Select(t => $"\"{t}\""))}]
            """);
        var process = ChildProcess.Start(binary,
        [
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--log.level=warn",
        ]);
        var address = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var ready = await client.GetAsync(new Uri(address, "/-/ready"));
                if (ready.IsSuccessStatusCode)
                {
                    return new PrometheusServer(process, folder, address);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Starting.
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(100);
        }

        var output = process.Stderr;
        await process.DisposeAsync();
        throw new InvalidOperationException($"prometheus did not become ready: {output}");
    }

    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
