using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;

namespace Gantry.Testing;

/// <summary>
/// Debian's Prometheus Alertmanager (prometheus-alertmanager) on a free loopback port, in a temp dir, clustering
/// off, sending every alert group at once to one webhook with a bearer token (as a team would point it at Gantry).
/// </summary>
public sealed class AlertmanagerServer : IAsyncDisposable
{
    private readonly ChildProcess process;
    private readonly string folder;
    private readonly HttpClient client = new() { Timeout = TimeSpan.FromSeconds(5) };

    private AlertmanagerServer(ChildProcess process, string folder, Uri address)
    {
        this.process = process;
        this.folder = folder;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<AlertmanagerServer> StartAsync(Uri webhook, string token)
    {
        var binary = RealBinaries.Find("prometheus-alertmanager") ?? throw new InvalidOperationException("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)");
        var folder = Directory.CreateTempSubdirectory("gantry-alertmanager-").FullName;
        var config = Path.Combine(folder, "alertmanager.yml");
        await File.WriteAllTextAsync(config, $$"""
            route:
              receiver: gantry
              group_by: [alertname, service, environment]
              group_wait: 0s
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: gantry
                webhook_configs:
                  - url: {{webhook}}
                    send_resolved: true
                    http_config:
                      authorization: { type: Bearer, credentials: {{token}} }
            """);
        var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var process = ChildProcess.Start(binary,
        [
            $"--config.file={config}", $"--storage.path={Path.Combine(folder, "data")}", $"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=", "--log.level=warn",
        ], workingDir: folder);
        var server = new AlertmanagerServer(process, folder, new Uri($"http://127.0.0.1:{port}"));
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
        {
            try
            {
                using var ready = await server.client.GetAsync(new Uri(server.Address, "/-/ready"));
                if (ready.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Starting.
            }

            await Task.Delay(100);
        }

        var output = process.Stderr;
        await server.DisposeAsync();
        throw new InvalidOperationException($"alertmanager did not become ready: {output}");
    }

    /// <summary>Raises an alert, as Prometheus would (Alertmanager's API v2); with <paramref name="resolved"/>, ends it.</summary>
    public async Task FireAsync(IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string> annotations, bool resolved = false)
    {
        var alert = new Dictionary<string, object>
        {
            ["labels"] = labels,
            ["annotations"] = annotations,
            ["startsAt"] = DateTimeOffset.UtcNow.AddSeconds(-5).ToString("O", CultureInfo.InvariantCulture),
        };
        if (resolved)
        {
            alert["endsAt"] = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O", CultureInfo.InvariantCulture);
        }

        using var response = await client.PostAsJsonAsync(new Uri(Address, "/api/v2/alerts"), new[] { alert });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>What Alertmanager logged (its failed notifications among it).</summary>
    public string Log => process.Stderr;

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
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
