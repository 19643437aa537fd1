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
        result.Stdout.Should().Contain("setWeight 10: stable v1 90%, canary v2 10%; sending 2000 requests through the router");
        result.Stdout.Should().MatchRegex(@"stable\s+v1\s+2000\s+0\s+0\.00%", "200 warm-up requests plus 90% of 2,000, all answered");
        result.Stdout.Should().MatchRegex(@"canary\s+v2\s+200\s", "exactly 10% of 2,000 reached the canary");
        result.Stdout.Should().Contain("analysis of canary v2 against stable v1:\n  FAIL  error-rate");
        result.Stdout.Should().MatchRegex(@"FAIL  p90-vs-baseline  p90 latency \d+ ms vs baseline");
        result.Stdout.Should().Contain("canary v2 fails 2 metrics and stable v1 passes: abort, all traffic back to stable v1.");
        result.Stdout.Should().Contain("after the abort: 500 requests, 0 errors, served by v1 (500)");

        // Every process and listener it started is gone: nothing listens on the ports it printed.
        var ports = Regex.Matches(result.Stdout, @"(?:on|router on http://) ?127\.0\.0\.1:(\d+)").Select(m => int.Parse(m.Groups[1].Value)).ToList();
        ports.Should().HaveCount(3);
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
