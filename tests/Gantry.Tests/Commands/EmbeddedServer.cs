using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Server;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>A real embedded server for CLI tests: the manifest's services run for real, data in a temp folder removed afterwards.</summary>
public sealed class EmbeddedServer : IAsyncDisposable
{
    private EmbeddedServer(string folder, GantryServer server)
    {
        Folder = folder;
        Server = server;
    }

    public string Folder { get; }

    public GantryServer Server { get; }

    /// <summary>The server's data directory, for --data (the CLI then uses its admin token).</summary>
    public string Data => Path.Combine(Folder, "data");

    /// <summary>The server's address, for --server.</summary>
    public string Address => Server.Address.ToString();

    public static async Task<EmbeddedServer> StartAsync(string manifestText, string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        var loaded = ManifestLoader.LoadText(manifestText);
        var manifest = loaded.Manifest ?? throw new InvalidOperationException(string.Join("\n", loaded.Diagnostics));
        var server = await GantryServer.StartAsync(manifest, folder, new ServerOptions(Path.Combine(folder, "data"), new Endpoint("127.0.0.1", FreePort.Next())), TimeProvider.System, null, CancellationToken.None);
        return new EmbeddedServer(folder, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Folder, recursive: true);
    }
}
