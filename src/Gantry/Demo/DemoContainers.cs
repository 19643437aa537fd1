using Gantry.Runtime.Docker;

namespace Gantry.Demo;

/// <summary>
/// <c>gantry demo --runtime docker</c>: the images of the sample service (built once by
/// examples/shop/docker/build-image.sh, then tagged for each version of the story) on the engine of DOCKER_HOST,
/// and the demo's containers removed afterwards.
/// </summary>
internal static class DemoContainers
{
    /// <summary>The engine's version, or one line saying why it cannot be reached (then nothing was changed).</summary>
    public static async Task<string?> ReachAsync(TextWriter error, CancellationToken ct)
    {
        using var engine = DockerEngine.FromEnvironment();
        try
        {
            return await engine.PingAsync(ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Net.Sockets.SocketException or IOException or DockerException)
        {
            await error.WriteLineAsync($"gantry: the Docker engine at {engine.Host} cannot be reached ({ex.GetBaseException().Message}); start dockerd or set DOCKER_HOST, or run the demo without --runtime docker");
            return null;
        }
    }

    /// <summary>Builds gantry-shop:VERSIONS[0] from the source tree's sample and tags it for the other versions; false (with the script's output) when the build fails.</summary>
    public static async Task<bool> BuildImagesAsync(string sourceTree, IReadOnlyList<string> versions, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var script = Path.Combine(sourceTree, "examples", "shop", "docker", "build-image.sh");
        await output.WriteLineAsync($"  building gantry-shop:{versions[0]} with {Path.GetRelativePath(Environment.CurrentDirectory, script)}");
        using var build = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", [script, versions[0]]) { RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new InvalidOperationException("bash did not start");
        var stderr = build.StandardError.ReadToEndAsync(ct);
        await build.StandardOutput.ReadToEndAsync(ct);
        await build.WaitForExitAsync(ct);
        if (build.ExitCode != 0)
        {
            await error.WriteLineAsync($"gantry: building the sample's image failed: {(await stderr).Trim()}");
            return false;
        }

        using var engine = DockerEngine.FromEnvironment();
        foreach (var version in versions.Skip(1))
        {
            await engine.TagAsync($"gantry-shop:{versions[0]}", $"gantry-shop:{version}", ct);
        }

        return true;
    }

    /// <summary>Removes every container the demo's server made (running or kept), by its owner label.</summary>
    public static async Task RemoveAsync(string owner, CancellationToken ct)
    {
        using var engine = DockerEngine.FromEnvironment();
        foreach (var name in await engine.ListAsync(DockerLauncher.OwnerLabel, owner, ct))
        {
            await engine.RemoveAsync(name, ct);
        }
    }
}
