using System.Net.Sockets;
using System.Text.RegularExpressions;
using Gantry.Testing;

namespace Gantry.Tests.Demo;

/// <summary>The README's first command, run for real: the sample service twice, real traffic, real verdicts.</summary>
public sealed class DemoCommandTests
{
    [Fact(Timeout = 150_000)]
    public async Task Demo_FromSourceTree_RunsCanaryBlueGreenAndAutomaticAbortThenCleansUp()
    {
        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "demo"], TimeSpan.FromSeconds(120), workingDir: RepoPaths.Root);

        result.ExitCode.Should().Be(0, result.Stdout + result.Stderr);
        result.Stdout.Should().Contain("step 1/5: canary v2 20%, stable v1 80%");
        result.Stdout.Should().Contain("step 3/5: canary v2 50%, stable v1 50%");
        result.Stdout.Should().Contain("v2 promoted: it is the stable release");
        result.Stdout.Should().Contain("v2 is active; post-promotion analysis passed");
        result.Stdout.Should().MatchRegex(@"Aborted\s+analysis slo failed \(step 2/5\): error-rate: \d+\.\d+% exceeds 1% \(1 of 1 measurements failed\)");
        result.Stdout.Should().MatchRegex(@"shop v2\s+canary\s+Succeeded\s+[\d.]+ s\s+\d+\s+0  v1 \d+, v2 \d+", "the good canary costs no client errors");
        result.Stdout.Should().MatchRegex(@"cart v2\s+blue-green\s+Succeeded\s+[\d.]+ s\s+\d+\s+0  v1 \d+, v2 \d+");
        result.Stdout.Should().MatchRegex(@"shop v3\s+canary\s+Aborted\s+");

        // Every listener it started is gone: the API, both services and the preview.
        var ports = Regex.Matches(result.Stdout, @"http://127\.0\.0\.1:(\d+)").Select(m => int.Parse(m.Groups[1].Value)).Distinct().ToList();
        ports.Should().HaveCountGreaterThanOrEqualTo(3);
        foreach (var port in ports)
        {
            using var client = new TcpClient();
            await FluentActions.Awaiting(() => client.ConnectAsync("127.0.0.1", port)).Should().ThrowAsync<SocketException>();
        }

        var data = Regex.Match(result.Stdout, @"data in (\S+)").Groups[1].Value;
        Directory.Exists(data).Should().BeFalse("the demo removes its temp data directory");
        Gantry.Runtime.Process.Orphans.Find(Gantry.Server.GantryServer.OwnerOf(data)).Should().BeEmpty("no instance process is left running");
    }

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 240_000)]
    public async Task Demo_OnDocker_BuildsTheImages_RunsTheSameStoryInContainers_AndRemovesThem()
    {
        await using var daemon = await DockerDaemon.StartAsync();
        var environment = new Dictionary<string, string> { ["DOCKER_HOST"] = daemon.Host };

        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "demo", "--runtime", "docker"], TimeSpan.FromSeconds(200), environment, RepoPaths.Root);

        result.ExitCode.Should().Be(0, result.Stdout + result.Stderr);
        result.Stdout.Should().Contain("examples/demo/gantry.docker.yaml").And.Contain("building gantry-shop:v1");
        result.Stdout.Should().MatchRegex(@"shop v2\s+canary\s+Succeeded\s+[\d.]+ s\s+\d+\s+0  v1 \d+, v2 \d+", "the good canary of containers costs no client errors");
        result.Stdout.Should().MatchRegex(@"cart v2\s+blue-green\s+Succeeded\s+[\d.]+ s\s+\d+\s+0  v1 \d+, v2 \d+");
        result.Stdout.Should().MatchRegex(@"Aborted\s+analysis slo failed \(step 2/5\): error-rate: ");
        var images = await daemon.DockerAsync(["images", "gantry-shop", "--format", "{{.Tag}}"]);
        images.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().BeEquivalentTo(["v1", "v2", "v3"]);
        (await daemon.DockerAsync(["ps", "-a", "--format", "{{.Names}}"])).Stdout.Trim().Should().BeEmpty("the demo removes its containers");

        var unreachable = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "demo", "--runtime", "docker"], TimeSpan.FromSeconds(30),
            new Dictionary<string, string> { ["DOCKER_HOST"] = "unix:///nonexistent/docker.sock" }, RepoPaths.Root);
        unreachable.ExitCode.Should().Be(1);
        unreachable.Stderr.Trim().Should().Be("gantry: the Docker engine at unix:///nonexistent/docker.sock cannot be reached (nothing at /nonexistent/docker.sock); start dockerd or set DOCKER_HOST, or run the demo without --runtime docker");
        unreachable.Stdout.Should().BeEmpty("nothing was started");
    }

    [Fact(Timeout = 60_000)]
    public async Task Demo_InvalidManifest_PrintsDiagnosticsAndExitsTwo()
    {
        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "demo", "-f", "broken.yaml"], TimeSpan.FromSeconds(30), workingDir: RepoPaths.Combine("docs", "examples"));

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Contain("broken.yaml:5:32: error: unknown placeholder '{prot}'");
    }
}
