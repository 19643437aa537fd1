using System.Diagnostics;

namespace Gantry.Testing;

/// <summary>A real instance of the sample service (examples/shop) on a free loopback port.</summary>
public sealed class ShopInstance : IAsyncDisposable
{
    private ShopInstance(ChildProcess process, int port)
    {
        Process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public ChildProcess Process { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    /// <summary>Starts the service with the given environment and waits until it answers (or exits).</summary>
    public static async Task<ShopInstance> StartAsync(IReadOnlyDictionary<string, string> env, CancellationToken ct, bool waitUntilListening = true)
    {
        var port = FreePort.Next();
        var process = ChildProcess.Start("dotnet", [RepoPaths.ShopDll, "--urls", $"http://127.0.0.1:{port}"], env);
        var instance = new ShopInstance(process, port);
        if (waitUntilListening)
        {
            await instance.WaitUntilListeningAsync(TimeSpan.FromSeconds(30), ct);
        }

        return instance;
    }

    /// <summary>Waits until /health answers; throws with the service's output if it exits or times out.</summary>
    public async Task WaitUntilListeningAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"shop exited with {Process.ExitCode}: {Process.Stderr}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/health", UriKind.Relative), ct);
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(50, ct);
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // Listening, but its first answer took longer than one try (a starting .NET process on a loaded
                // machine): asked again until the whole timeout has passed.
            }
        }

        throw new TimeoutException($"shop did not listen on {BaseAddress} within {timeout}");
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
