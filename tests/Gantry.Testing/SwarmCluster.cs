namespace Gantry.Testing;

/// <summary>
/// A real two-node Docker Swarm for a test, built by <c>examples/swarm/swarm.sh</c> (the script a reader runs):
/// two network namespaces joined by a veth pair (10.231.0.1 the manager, 10.231.0.2 the worker), a dockerd in
/// each, and a link from this machine's namespace into the first, so tasks on either node are reached at their
/// node's address. Only one can exist at a time (the addresses are fixed): tests that build one share a collection.
/// Removed, with its namespaces and engines, when disposed.
/// </summary>
public sealed class SwarmCluster : IAsyncDisposable
{
    private static readonly string Script = RepoPaths.Combine("examples", "swarm", "swarm.sh");

    private SwarmCluster(string folder) => Folder = folder;

    /// <summary>Holds each node's engine files and socket.</summary>
    public string Folder { get; }

    /// <summary>The manager's engine address, as DOCKER_HOST writes it.</summary>
    public string Manager => Host(1);

    public static string[] NodeAddresses { get; } = ["10.231.0.1", "10.231.0.2"];

    /// <summary>Node <paramref name="node"/>'s engine (1 or 2).</summary>
    public string Host(int node) => $"unix://{Folder}/n{node}/docker.sock";

    /// <summary>Builds the swarm and loads the sample service's images (built into a throwaway engine) onto both nodes.</summary>
    public static async Task<SwarmCluster> StartAsync(params string[] versions)
    {
        if (RealBinaries.Find("dockerd") is null)
        {
            throw new InvalidOperationException("dockerd is not installed (apt-get install docker.io)");
        }

        var folder = Directory.CreateTempSubdirectory("gs-").FullName;
        var cluster = new SwarmCluster(folder);
        // A swarm left by a test that was killed: removed first (the prefix and addresses are fixed).
        await RunAsync("down", Path.Combine(Path.GetTempPath(), "gs-stale"));
        var up = await RunAsync("up", folder);
        if (up.ExitCode != 0)
        {
            await cluster.DisposeAsync();
            throw new InvalidOperationException($"swarm.sh up failed: {up.Stderr}{up.Stdout}");
        }

        try
        {
            await cluster.LoadShopImagesAsync(versions);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Builds gantry-shop:VERSION on the manager and copies each to the worker with docker save | docker load (no registry).</summary>
    private async Task LoadShopImagesAsync(string[] versions)
    {
        foreach (var version in versions)
        {
            await BuildShopImageAsync(version);
            var copied = await ChildProcess.RunAsync("bash", ["-c", $"docker -H {Manager} save gantry-shop:{version} | docker -H {Host(2)} load -q"], TimeSpan.FromMinutes(2));
            if (copied.ExitCode != 0)
            {
                throw new InvalidOperationException($"docker save | docker load of {version} failed: {copied.Stderr}");
            }
        }
    }

    private async Task BuildShopImageAsync(string version)
    {
        var built = await ChildProcess.RunAsync("bash", [RepoPaths.Combine("examples", "shop", "docker", "build-image.sh"), version, RepoPaths.Configuration],
            TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["DOCKER_HOST"] = Manager });
        if (built.ExitCode != 0)
        {
            throw new InvalidOperationException($"build-image.sh {version} failed: {built.Stderr}");
        }
    }

    /// <summary>Builds gantry-shop:VERSION, pushes it to <paramref name="registry"/> (HOST:PORT) as HOST:PORT/gantry-shop:VERSION, and leaves no copy on any node: each must pull it.</summary>
    public async Task PushShopImageAsync(string version, string registry)
    {
        await BuildShopImageAsync(version);
        var image = $"{registry}/gantry-shop:{version}";
        foreach (var step in new[] { new[] { "tag", $"gantry-shop:{version}", image }, ["push", "-q", image], ["rmi", image, $"gantry-shop:{version}"] })
        {
            var done = await DockerAsync(1, step, TimeSpan.FromMinutes(2));
            if (done.ExitCode != 0)
            {
                throw new InvalidOperationException($"docker {string.Join(' ', step)} failed: {done.Stderr}");
            }
        }
    }

    /// <summary>Runs the docker CLI against node <paramref name="node"/>'s engine.</summary>
    public Task<CommandResult> DockerAsync(int node, IEnumerable<string> args, TimeSpan? timeout = null) =>
        ChildProcess.RunAsync(RealBinaries.Find("docker") ?? "docker", args, timeout ?? TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["DOCKER_HOST"] = Host(node) });

    /// <summary>kill -9 of node <paramref name="node"/>'s dockerd, as if its machine were lost to the swarm.</summary>
    public Task<CommandResult> KillEngineAsync(int node) => RunAsync("kill", Folder, node.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Points this process's DOCKER_HOST at the manager until disposed.</summary>
    public IDisposable AsDockerHost() => TemporaryVariable.Set("DOCKER_HOST", Manager);

    private static Task<CommandResult> RunAsync(params string[] args) => ChildProcess.RunAsync("bash", [Script, .. args], TimeSpan.FromMinutes(2));

    public async ValueTask DisposeAsync() => await RunAsync("down", Folder);
}
