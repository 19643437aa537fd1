using Gantry.Core.Rollouts;
using Gantry.Proxy.Control;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// What the native client adds to the full program's environment for <c>gantry server</c> (runtime settings read as the
/// runtime starts: <see cref="StartSettings"/>) is for the server alone: a real server started with it, its routers
/// started without it; a value the user set is theirs, and inherited.
/// </summary>
public sealed class StartSettingsTests(ITestOutputHelper log) : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-start-settings-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact(Timeout = 10_000)]
    public void TheServer_StartsWithoutProfileGuidedRecompilation_AndOtherCommandsAsTheRuntimeStarts()
    {
        StartSettings.For(["server", "-f", "gantry.yaml"], _ => null).Should().Equal(
            new KeyValuePair<string, string>("DOTNET_TieredPGO", "0"), new KeyValuePair<string, string>(StartSettings.Marker, "DOTNET_TieredPGO"));
        foreach (var args in new[] { ["router", "--data", "d"], ["status", "shop"], ["demo"], Array.Empty<string>() })
        {
            StartSettings.For(args, _ => null).Should().BeEmpty(string.Join(' ', args));
        }

        StartSettings.For(["server"], name => name == "DOTNET_TieredPGO" ? "1" : null).Should().BeEmpty("the user's value wins");
    }

    [Fact(Timeout = 10_000)]
    public void WhatWasAddedForThisProcess_IsWhatTheMarkerNames_WithTheMarker()
    {
        var environment = new Dictionary<string, string> { [StartSettings.Marker] = "DOTNET_TieredPGO, DOTNET_Other", ["DOTNET_TieredPGO"] = "0" };
        StartSettings.AddedForThisProcess(environment.GetValueOrDefault).Should().Equal("DOTNET_TieredPGO", "DOTNET_Other", StartSettings.Marker);
        StartSettings.AddedForThisProcess(_ => null).Should().BeEmpty();
    }

    [Fact(Timeout = 300_000)]
    public async Task WhatTheNativeClientAdds_IsTheServersAlone_ItsRoutersStartWithoutIt()
    {
        var added = StartSettings.For(["server"], _ => null).ToDictionary(a => a.Key, a => a.Value);
        var (server, routers) = await StartAsync(added);
        await using (server)
        {
            Environ(server.Process!.Id).Should().Contain("DOTNET_TieredPGO=0", "the server's runtime started with it");
            foreach (var router in routers)
            {
                Environ(router).Should().NotContain(v => v.StartsWith("DOTNET_TieredPGO=", StringComparison.Ordinal) || v.StartsWith(StartSettings.Marker + "=", StringComparison.Ordinal),
                    $"router {router} starts with the runtime's defaults");
            }
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task AValueTheUserSet_IsInheritedByTheRouters()
    {
        var (server, routers) = await StartAsync(new Dictionary<string, string> { ["DOTNET_TieredPGO"] = "0" });
        await using (server)
        {
            foreach (var router in routers)
            {
                Environ(router).Should().Contain("DOTNET_TieredPGO=0", $"router {router} has what the user set");
            }
        }
    }

    /// <summary>A server with <paramref name="env"/>, one service deployed behind its router; the pids of the router and its spare.</summary>
    private async Task<(ServerProcess Server, IReadOnlyList<int> Routers)> StartAsync(Dictionary<string, string> env)
    {
        var manifest = Path.Combine(folder, "gantry.yaml");
        await File.WriteAllTextAsync(manifest, "version: 1\n" + SampleService.ShopServices());
        var server = new ServerProcess(Path.Combine(folder, "data"), FreePort.Next(), env);
        await server.StartAsync(manifest);
        await server.WaitForAsync(await server.DeployAsync("1.0"), RolloutPhase.Succeeded);
        var files = new RouterFiles(server.Data);
        await Wait.UntilAsync(() => Task.FromResult(files.LivePid() is not null && files.LiveSparePid() is not null), TimeSpan.FromSeconds(30), "the router and its spare run");
        int[] routers = [files.LivePid()!.Value, files.LiveSparePid()!.Value];
        log.WriteLine($"server {server.Process!.Id}, routers {string.Join(", ", routers)}");
        return (server, routers);
    }

    private static string[] Environ(int pid) => File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);
}
