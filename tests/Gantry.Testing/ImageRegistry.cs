using System.Diagnostics;
using System.Globalization;

namespace Gantry.Testing;

/// <summary>Debian's image registry (distribution) on a free port (of loopback, or of a test's own link), storing in a temp dir: Docker engines push to and pull from it without TLS.</summary>
public sealed class ImageRegistry : IAsyncDisposable
{
    private readonly ChildProcess process;
    private readonly string folder;

    private ImageRegistry(ChildProcess process, string folder, string address)
    {
        this.process = process;
        this.folder = folder;
        Address = address;
    }

    /// <summary>HOST:PORT, the prefix of the registry's image names.</summary>
    public string Address { get; }

    /// <param name="host">The address it listens on: loopback, or this machine's end of a link into test namespaces (10.231.1.1 for a swarm's nodes).</param>
    public static async Task<ImageRegistry> StartAsync(string host = "127.0.0.1")
    {
        var binary = RealBinaries.Find("docker-registry") ?? throw new InvalidOperationException("docker-registry is not installed (apt-get install docker-registry)");
        var folder = Directory.CreateTempSubdirectory("gantry-registry-").FullName;
        var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var config = Path.Combine(folder, "config.yml");
        await File.WriteAllTextAsync(config, $$"""
            version: 0.1
            log: { level: warn }
            storage:
              filesystem: { rootdirectory: {{Path.Combine(folder, "data")}} }
            http:
              addr: {{host}}:{{port}}
            """);
        var process = ChildProcess.Start(binary, ["serve", config]);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
        {
            try
            {
                using var ready = await client.GetAsync(new Uri($"http://{host}:{port}/v2/"));
                if (ready.IsSuccessStatusCode)
                {
                    return new ImageRegistry(process, folder, $"{host}:{port}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Starting.
            }

            await Task.Delay(100);
        }

        var output = process.Stderr;
        await process.DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not become ready: {output}");
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
