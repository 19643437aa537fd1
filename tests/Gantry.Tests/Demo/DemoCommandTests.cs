using System.Net.Sockets;
using System.Text.RegularExpressions;
using Gantry.Testing;

namespace Gantry.Tests.Demo;

/// <summary>The README's first command, run for real: the sample service twice, real traffic, real verdicts.</summary>
public sealed class DemoCommandTests
{
    [Fact(Timeout = 120_000)]
    public async Task Demo_FromSourceTree_FailsTheBadReleaseAndCleansUp()
    {
        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "demo"], TimeSpan.FromSeconds(100), workingDir: RepoPaths.Root);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Contain("manifest valid: service 'shop', canary in 6 steps, analysis slo, latency-vs-baseline");
        result.Stdout.Should().MatchRegex(@"v1\s+1000\s+0\s+0\.00%");
        result.Stdout.Should().Contain("analysis of v2 against v1:\n  FAIL  error-rate");
        result.Stdout.Should().MatchRegex(@"FAIL  p90-vs-baseline  p90 latency \d+ ms vs baseline");
        result.Stdout.Should().Contain("v2 fails 2 metrics and v1 passes");

        // Every instance it started is gone: nothing listens on the ports it printed.
        var ports = Regex.Matches(result.Stdout, @"on 127\.0\.0\.1:(\d+)").Select(m => int.Parse(m.Groups[1].Value)).ToList();
        ports.Should().HaveCount(2);
        foreach (var port in ports)
        {
            using var client = new TcpClient();
            await FluentActions.Awaiting(() => client.ConnectAsync("127.0.0.1", port)).Should().ThrowAsync<SocketException>();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Demo_InvalidManifest_PrintsDiagnosticsAndExitsTwo()
    {
        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "demo", "-f", "broken.yaml"], TimeSpan.FromSeconds(30), workingDir: RepoPaths.Combine("docs", "examples"));

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Contain("broken.yaml:5:32: error: unknown placeholder '{prot}'");
    }
}
