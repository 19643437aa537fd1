using Gantry.Testing;

namespace Gantry.Server.Tests.Runtime;

/// <summary>The tests' Docker engine leaves nothing behind: a run starts dozens of them.</summary>
[Collection(ServerTests.Name)]
public sealed class DockerDaemonTests
{
    [Fact(Timeout = 120_000)]
    public async Task AnEngineThatRanAContainer_Disposed_LeavesNoMountAndNoFolder()
    {
        var daemon = await DockerDaemon.StartAsync();
        var folder = daemon.Folder;
        DockerDaemon.MountsUnder(folder).Should().NotBeEmpty("the engine mounts its default network namespace under its exec root");

        // A container that ran on the host's network: after one, the engine no longer unmounts that namespace itself.
        var image = await ChildProcess.RunAsync("bash", ["-c", """
            set -e
            root=$(mktemp -d)
            trap 'rm -rf "$root"' EXIT
            mkdir -p "$root/bin"
            cp /bin/sleep "$root/bin/"
            for lib in $(ldd /bin/sleep | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp "$lib" "$root$lib"; done
            tar -C "$root" -c . | docker import - gantry-test-sleep:1
            """], TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["DOCKER_HOST"] = daemon.Host });
        image.ExitCode.Should().Be(0, image.Stderr);
        var run = await daemon.DockerAsync(["run", "-d", "--network", "host", "gantry-test-sleep:1", "/bin/sleep", "600"]);
        run.ExitCode.Should().Be(0, run.Stderr);

        await daemon.DisposeAsync();

        DockerDaemon.MountsUnder(folder).Should().BeEmpty("what the engine left mounted is unmounted");
        Directory.Exists(folder).Should().BeFalse("and its folder deleted");
    }
}
