using System.Net;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Server.Rollouts;

namespace Gantry.Server.Tests.Security;

/// <summary>The data directory holds the admin token, the secret key and the database: the server keeps it to itself.</summary>
[Collection(ServerTests.Name)]
public sealed class DataDirectoryTests
{
    [Fact(Timeout = 60_000)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Start_OnADataDirectoryOthersMayRead_IsRefused()
    {
        var folder = Directory.CreateTempSubdirectory("gantry-open-data-").FullName;
        try
        {
            var data = Path.Combine(folder, "data");
            Directory.CreateDirectory(data);
            File.SetUnixFileMode(data, (UnixFileMode)0b111_101_101);
            var start = async () => await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "rolling: {}"), dataFolder: folder);
            (await start.Should().ThrowAsync<InvalidOperationException>())
                .WithMessage($"the data directory {data} is open to other users (mode 755): it holds the admin token, the secret key and the database. Run 'chmod 700 {data}'");
            File.Exists(Path.Combine(data, "admin.token")).Should().BeFalse("nothing was written");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact(Timeout = 90_000)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Deploy_WithASecret_TheDatabaseHoldsItEncryptedAndOwnerOnly()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "rolling: {}", replicas: 1));
        using var created = await h.Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", "v1", Set: new Dictionary<string, string> { ["API_KEY"] = "sk-live-8f2e51" }, Secret: ["API_KEY"]), GantryJson.Options);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var done = await h.WaitForPhaseAsync("shop-default-1", RolloutPhase.Succeeded);
        (await File.ReadAllTextAsync($"/proc/{done.Instances.Single().ProcessId}/environ")).Split('\0').Should().Contain("API_KEY=sk-live-8f2e51", "the instance gets the value");

        var data = Path.Combine(h.Folder, "data");
        foreach (var file in Directory.GetFiles(data, "gantry.db*"))
        {
            File.GetUnixFileMode(file).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, file);
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            copy.ToArray().AsSpan().IndexOf("sk-live-8f2e51"u8).Should().Be(-1, $"{file} never holds the value in clear");
        }

        File.GetUnixFileMode(Path.Combine(data, "secrets.key")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
