using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// <c>gantry server</c> started where its manifest is, the default data directory (<c>.gantry</c>) beside it: the
/// instances' logs and the store change many times a second under its working directory. A host that watched its
/// content root for configuration files (ASP.NET Core's default) would be woken by every one of those writes.
/// </summary>
public sealed class WorkingDirectoryTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-cwd-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact(Timeout = 120_000)]
    public async Task Server_InTheManifestsFolder_DoesNotWatchTheFilesUnderIt()
    {
        var manifest = Path.Combine(folder, "gantry.yaml");
        await File.WriteAllTextAsync(manifest, $$"""
            version: 1
            services:
              shop:
                {{SampleService.Process(4)}}
                listen: 127.0.0.1:{{FreePort.Next()}}
            """);
        await using var server = new ServerProcess(Path.Combine(folder, ".gantry"), FreePort.Next()) { WorkingDirectory = folder };
        await server.StartAsync(manifest);

        // Writes under the working directory, as instances' logs are written under .gantry.
        var noise = Directory.CreateDirectory(Path.Combine(folder, ".gantry", "noise")).FullName;
        for (var i = 0; i < 200; i++)
        {
            await File.AppendAllTextAsync(Path.Combine(noise, $"{i % 10}.log"), $"line {i}\n");
        }

        await Task.Delay(500);
        var threads = Directory.GetDirectories($"/proc/{server.Process!.Id}/task").Select(t => File.ReadAllText(Path.Combine(t, "comm")).Trim()).ToList();
        threads.Should().Contain(".NET TP Worker", "the threads are read from the server's process");
        threads.Should().NotContain(t => t.StartsWith(".NET File Watch", StringComparison.Ordinal), "no file under the working directory is watched");
    }
}
