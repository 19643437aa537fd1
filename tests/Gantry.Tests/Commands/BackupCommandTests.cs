using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>gantry backup, backup verify and restore against a real embedded server running the sample service.</summary>
public sealed class BackupCommandTests
{
    [Fact(Timeout = 120_000)]
    public async Task Backup_OfARunningServer_VerifiesAndRestoresIntoAnEmptyStoreOnly()
    {
        var text = $$"""
            version: 1
            services:
              shop:
                {{SampleService.Process(4)}}
                listen: 127.0.0.1:{{FreePort.Next()}}
                health:
                  readiness: { path: /health/ready, interval: 200ms }
            """;
        var folder = Directory.CreateTempSubdirectory("gantry-backup-cli-").FullName;
        var file = Path.Combine(folder, "nightly.db");
        try
        {
            await using (var embedded = await EmbeddedServer.StartAsync(text, "gantry-backup-"))
            {
                (await GantryCliTests.RunAsync("deploy", "shop", "--version", "1.0", "--wait", "--server", embedded.Address, "--data", embedded.Data)).Exit.Should().Be(ExitCodes.Success);
                var (exit, output, error) = await GantryCliTests.RunAsync("backup", "--to", file, "--server", embedded.Address, "--data", embedded.Data);
                (exit, error).Should().Be((ExitCodes.Success, string.Empty));
                output.Should().StartWith($"gantry backup: {file} (").And.Contain("bytes), verified").And.Contain("1 rollouts, 1 releases, 0 incidents").And.Contain("audit chain: ");
                var audit = await GantryCliTests.RunAsync("audit", "--server", embedded.Address, "--data", embedded.Data);
                audit.Out.Should().Contain("store.backup", "the backup is in the server's audit trail");
            }

            var verified = await GantryCliTests.RunAsync("backup", "verify", file);
            verified.Exit.Should().Be(ExitCodes.Success);
            verified.Out.Should().Contain("1 rollouts").And.Contain("audit chain: ");

            var target = Path.Combine(folder, "restored");
            var restored = await GantryCliTests.RunAsync("restore", "--from", file, "--data", target);
            (restored.Exit, restored.Err).Should().Be((ExitCodes.Success, string.Empty));
            restored.Out.Should().StartWith($"gantry restore: {Path.Combine(target, "gantry.db")} restored from {file}");
            var again = await GantryCliTests.RunAsync("restore", "--from", file, "--data", target);
            again.Exit.Should().Be(ExitCodes.Failed);
            again.Err.Trim().Should().Be($"gantry: {Path.Combine(target, "gantry.db")} is not empty (1 rollouts, 4 audit events): restore into a new data directory; nothing was changed", "the backup's three events and the restore's own");

            var damaged = Path.Combine(folder, "damaged.db");
            var bytes = await File.ReadAllBytesAsync(file);
            await File.WriteAllBytesAsync(damaged, [.. bytes.Take(bytes.Length / 3)]);
            var refused = await GantryCliTests.RunAsync("backup", "verify", damaged);
            refused.Exit.Should().Be(ExitCodes.Failed);
            refused.Err.Trim().Split('\n').Should().ContainSingle().Which.Should().StartWith($"gantry: {damaged} is ");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
