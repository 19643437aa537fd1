using System.Diagnostics;
using System.Globalization;

namespace Gantry.Testing;

/// <summary>
/// A real Docker engine for a test: <c>dockerd</c> with its own data root, exec root, pid file and unix socket in a
/// temporary folder, no bridge and no iptables (containers use host networking on loopback); the sample service's
/// images built into it by <c>examples/shop/docker/build-image.sh</c>. Stopped, and its folder removed, when disposed.
/// </summary>
public sealed class DockerDaemon : IAsyncDisposable
{
    private readonly ChildProcess process;
    private readonly string folder;

    private DockerDaemon(ChildProcess process, string folder)
    {
        this.process = process;
        this.folder = folder;
    }

    /// <summary>The temporary folder holding the engine's roots, pid file and socket.</summary>
    public string Folder => folder;

    /// <summary>The engine's address, as DOCKER_HOST writes it.</summary>
    public string Host => $"unix://{Path.Combine(folder, "docker.sock")}";

    public static async Task<DockerDaemon> StartAsync()
    {
        var binary = RealBinaries.Find("dockerd") ?? throw new InvalidOperationException("dockerd is not installed (apt-get install docker.io)");
        // Short paths: the socket's path must fit in a unix socket address.
        var folder = Directory.CreateTempSubdirectory("gd-").FullName;
        var process = ChildProcess.Start(binary,
        [
            $"--data-root={folder}/data", $"--exec-root={folder}/exec", $"--pidfile={folder}/docker.pid", $"--host=unix://{folder}/docker.sock",
            "--bridge=none", "--iptables=false", "--ip6tables=false", "--log-level=warn",
        ]);
        var daemon = new DockerDaemon(process, folder);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            var version = await daemon.DockerAsync(["version", "--format", "{{.Server.Version}}"], TimeSpan.FromSeconds(10));
            if (version.ExitCode == 0)
            {
                return daemon;
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(200);
        }

        await daemon.DisposeAsync();
        throw new InvalidOperationException("dockerd did not start: " + process.Stderr);
    }

    /// <summary>Builds gantry-shop:VERSION for each version from the built sample.</summary>
    public async Task BuildShopImagesAsync(params string[] versions)
    {
        foreach (var version in versions)
        {
            var built = await ChildProcess.RunAsync("bash", [RepoPaths.Combine("examples", "shop", "docker", "build-image.sh"), version, RepoPaths.Configuration],
                TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["DOCKER_HOST"] = Host });
            if (built.ExitCode != 0)
            {
                throw new InvalidOperationException($"build-image.sh {version} failed: {built.Stderr}");
            }
        }
    }

    /// <summary>Points this process's DOCKER_HOST at this engine (the runtime in a test server reads it) until disposed, then restores it.</summary>
    public IDisposable AsDockerHost() => TemporaryVariable.Set("DOCKER_HOST", Host);

    /// <summary>Runs the docker CLI against this engine.</summary>
    public Task<CommandResult> DockerAsync(IEnumerable<string> args, TimeSpan? timeout = null) =>
        ChildProcess.RunAsync(RealBinaries.Find("docker") ?? "docker", args, timeout ?? TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["DOCKER_HOST"] = Host });

    public async ValueTask DisposeAsync()
    {
        // Containers first, so the engine stops quickly; then the engine, which unmounts what it mounted.
        var all = await DockerAsync(["ps", "-aq"], TimeSpan.FromSeconds(20));
        var ids = all.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length > 0)
        {
            await DockerAsync(["rm", "-f", .. ids], TimeSpan.FromSeconds(60));
        }

        if (!process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // Killed below with the tree.
            }
        }

        await process.DisposeAsync();

        // The engine leaves its default network namespace mounted (exec/netns/default) when it stops: unmounted here,
        // deepest first, or the folder could not be deleted and every engine of a run would leave a mount behind.
        foreach (var mount in MountsUnder(folder).OrderByDescending(m => m.Length))
        {
            using var umount = Process.Start("umount", ["-l", mount]);
            await umount.WaitForExitAsync();
        }

        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Something still busy; the temporary folder is cleaned up with the machine.
        }
    }

    /// <summary>Mount points under the folder, from this process's mount table (fields: id, parent, dev, root, mount point).</summary>
    public static IReadOnlyList<string> MountsUnder(string folder) =>
        [.. File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(point => point.StartsWith(folder + "/", StringComparison.Ordinal))];
}
