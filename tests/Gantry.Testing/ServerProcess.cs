using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;

namespace Gantry.Testing;

/// <summary>
/// <c>gantry server</c> as a real process on a data directory, with an API client holding its local admin token:
/// started, killed with SIGKILL or stopped with SIGTERM, started again; disposing stops the server and runs
/// <c>gantry down</c>, so no router or instance outlives the test.
/// </summary>
public sealed class ServerProcess(string data, int apiPort, IReadOnlyDictionary<string, string>? env = null) : IAsyncDisposable
{
    public HttpClient Api { get; } = new() { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}"), Timeout = TimeSpan.FromSeconds(15) };

    private bool disposed;

    public string Data => data;

    /// <summary>The server's working directory (its host's content root); the repository's root unless set.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The server's local admin token (read once the server has started).</summary>
    public string AdminToken { get; private set; } = string.Empty;

    public ChildProcess? Process { get; private set; }

    /// <summary>What every process of this server wrote to stderr (its log), the stopped ones' first.</summary>
    public string Log => earlier + (Process?.Stderr ?? string.Empty);

    private string earlier = string.Empty;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    public async Task StartAsync(string manifest, params string[] extra)
    {
        var server = ChildProcess.Start("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--data", data, "--listen", $"127.0.0.1:{apiPort}", .. extra], env, WorkingDirectory);
        Process = server;
        var watch = Stopwatch.StartNew();
        // A start is a second or two; a CI machine running four test assemblies at once has taken 10 s just to reach
        // the router (a replica started again in ReplicaFailoverTests): a minute before calling it stuck.
        while (watch.Elapsed < StartTimeout)
        {
            try
            {
                using var ready = await Api.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (ready.IsSuccessStatusCode)
                {
                    // The server's local admin token, made on its first start and kept across restarts.
                    AdminToken = (await File.ReadAllTextAsync(Path.Combine(data, "admin.token"))).Trim();
                    Api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (server.HasExited)
            {
                throw new InvalidOperationException("the server exited: " + server.Stderr);
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"the server did not become ready within {StartTimeout.TotalSeconds:0} s: " + server.Stderr);
    }

    /// <summary>
    /// SIGKILL (no chance to clean up) or SIGTERM, and waits for the process to end. A server asked to stop with SIGTERM
    /// must stop cleanly (exit code 0: its store closed, its lock given up, nothing thrown on the way out).
    /// </summary>
    public async Task StopAsync(bool kill)
    {
        if (await EndAsync(kill) is { } code and not 0 && !kill)
        {
            throw new InvalidOperationException($"gantry server stopped with SIGTERM exited with code {code}: {string.Join('\n', Log.Split('\n').TakeLast(12))}");
        }
    }

    /// <summary>The signal sent and the end waited for; the exit code, or null when no server ran.</summary>
    private async Task<int?> EndAsync(bool kill)
    {
        if (Process is not { } server)
        {
            return null;
        }

        using (var signal = System.Diagnostics.Process.Start("kill", [kill ? "-KILL" : "-TERM", server.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }

        await server.WaitForExitAsync(CancellationToken.None);
        earlier += server.Stderr + $"--- the process ended ({(kill ? "SIGKILL" : "SIGTERM")}, exit code {server.ExitCode})\n";
        var code = server.ExitCode;
        await server.DisposeAsync();
        Process = null;
        return code;
    }

    public async Task<string> DeployAsync(string version)
    {
        using var response = await Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", version), GantryJson.Options);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"deploy {version}: {(int)response.StatusCode} {body}");
        }

        return System.Text.Json.JsonSerializer.Deserialize<RolloutView>(body, GantryJson.Options)!.Rollout.Id;
    }

    public async Task<RolloutView> WaitForViewAsync(string id, Func<RolloutView, bool> until, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        RolloutView? view = null;
        while (watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
        {
            view = await Api.GetFromJsonAsync<RolloutView>($"/api/v1/rollouts/{id}", GantryJson.Options);
            if (until(view!))
            {
                return view!;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"rollout {id}: {view?.Rollout.Phase}: {view?.Rollout.Message}; instances {string.Join("; ", view?.Instances ?? [])}");
    }

    /// <summary>The replicas of the server's store as it sees them.</summary>
    public async Task<ClusterView> ClusterAsync() => (await Api.GetFromJsonAsync<ClusterView>("/api/v1/cluster", GantryJson.Options))!;

    /// <summary>Among replicas: waits until the router of every live replica reported the newest published table.</summary>
    public Task WaitForRoutersAsync(TimeSpan timeout) => Wait.UntilAsync(async () =>
    {
        var cluster = await ClusterAsync();
        return cluster.Table is { } table && cluster.Replicas.Where(r => r.Alive).All(r => r.Table == table && r.TableError is null);
    }, timeout, "every live replica's router has the newest table");

    public Task<RolloutView> WaitForAsync(string id, RolloutPhase phase) => WaitForViewAsync(id, v => v.Rollout.Phase == phase);

    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        await EndAsync(kill: false);
        await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "down", "--data", data], TimeSpan.FromSeconds(60), env);
        Api.Dispose();
    }
}
