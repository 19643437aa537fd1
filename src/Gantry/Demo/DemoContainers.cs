using Gantry.Runtime.Docker;

namespace Gantry.Demo;

/// <summary>
/// <c>gantry demo --runtime docker</c>: the images of the sample service (built once by
/// examples/shop/docker/build-image.sh, then tagged for each version of the story) on the engine of DOCKER_HOST,
/// and the demo's containers removed afterwards.
/// </summary>
internal static class DemoContainers
{
    /// <summary>Whether the engine answers; when not, one line on <paramref name="error"/> says why (and nothing was changed).</summary>
    public static async Task<bool> ReachAsync(TextWriter error, CancellationToken ct)
    {
        using var engine = DockerEngine.FromEnvironment();
        if (await engine.UnreachableAsync(ct) is not { } why)
        {
            return true;
        }

        await error.WriteLineAsync($"gantry: {why}; start dockerd or set DOCKER_HOST, or run the demo without --runtime docker");
        return false;
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
        await DockerLauncher.RemoveAllAsync(engine, owner, ct);
    }
}
