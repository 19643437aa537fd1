using System.Text.Json;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Server;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>The client commands against a real embedded server running the sample service.</summary>
public sealed class RolloutCommandsTests : IAsyncLifetime
{
    private EmbeddedServer embedded = null!;

    private string Server => embedded.Address;

    private string Data => embedded.Data;

    public async ValueTask InitializeAsync()
    {
        var text = $$"""
            version: 1
            services:
              shop:
                {{SampleService.Process(4)}}
                listen: 127.0.0.1:{{FreePort.Next()}}
                health:
                  startup: { path: /health, interval: 100ms, failureThreshold: 100 }
                  readiness: { path: /health/ready, interval: 200ms }
                progressDeadline: 15s
                strategy:
                  canary: { steps: [{ setWeight: 50 }, { pause: {} }] }
            """;
        embedded = await EmbeddedServer.StartAsync(text, "gantry-cli-");
    }

    public async ValueTask DisposeAsync()
    {
        await embedded.DisposeAsync();
    }

    [Fact(Timeout = 120_000)]
    public async Task Commands_DeployPromoteStatusHistory_DriveARolloutAndReportIt()
    {
        var (exit, output, error) = await GantryCliTests.RunAsync("deploy", "shop", "--version", "1.0", "--wait", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().Contain("shop-default-1 Created: deploy of shop 1.0 to default").And.Contain("Succeeded: 1.0 is running: 1/1 instances ready");

        (exit, output, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "2.0", "--set", "FEATURE=on", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().StartWith("rollout shop-default-2: shop 2.0 (canary from 1.0) in default: Progressing");

        (exit, output, _) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "3.0", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().BeEmpty();

        await EventuallyAsync(async () => (await GantryCliTests.RunAsync("status", "shop", "--server", Server, "--data", Data)).Out.Contains(">> 2. pause until promoted", StringComparison.Ordinal));
        (exit, output, _) = await GantryCliTests.RunAsync("status", "shop", "--output", "json", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success);
        using (var json = JsonDocument.Parse(output))
        {
            json.RootElement.GetProperty("rollout").GetProperty("phase").GetString().Should().Be("paused");
            json.RootElement.GetProperty("rollout").GetProperty("release").GetProperty("variables")[0].GetProperty("key").GetString().Should().Be("FEATURE");
            json.RootElement.GetProperty("traffic").EnumerateArray().Select(t => t.GetProperty("weight").GetInt32()).Should().Equal(50, 50);
        }

        // Shown as the server wrote it (values made safe for a terminal, as every answer is), not rebuilt from types.
        using (var http = new HttpClient { BaseAddress = new Uri(Server) })
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", (await File.ReadAllTextAsync(Path.Combine(Data, "admin.token"), TestContext.Current.CancellationToken)).Trim());
            var served = await http.GetStringAsync(new Uri("api/v1/services/shop/rollout", UriKind.Relative), TestContext.Current.CancellationToken);
            System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(output), System.Text.Json.Nodes.JsonNode.Parse(Gantry.Client.TerminalText.EscapeJson(served))).Should().BeTrue(output);
            output.Should().Contain("\n  \"rollout\": {").And.Contain("\"identity\": \"2.0\\\\nFEATURE=on\"");
        }

        (exit, output, error) = await GantryCliTests.RunAsync("promote", "shop", "--wait", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().Contain("Promoted: promoted by").And.Contain("Succeeded: 2.0 promoted: it is the stable release");

        (exit, output, _) = await GantryCliTests.RunAsync("history", "shop", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success);
        output.Split('\n')[1].Should().StartWith("shop-default-2           2.0        Canary     Succeeded");

        (exit, output, _) = await GantryCliTests.RunAsync("status", "--server", Server, "--data", Data);
        output.Should().Contain("shop             default      2.0          shop-default-2 Succeeded");
    }

    [Fact(Timeout = 120_000)]
    public async Task Deploy_WaitForAReleaseThatNeverGetsReady_ExitsOneWithTheReason()
    {
        (await GantryCliTests.RunAsync("deploy", "shop", "--version", "1.0", "--wait", "--server", Server, "--data", Data)).Exit.Should().Be(ExitCodes.Success);
        var (exit, output, _) = await GantryCliTests.RunAsync("deploy", "shop", "--version", "2.0", "--set", "READY=false", "--wait", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Failed);
        output.Should().Contain("rollout shop-default-2: shop 2.0 (canary from 1.0) in default: Failed\n  no progress for 15s (progress deadline): 2.0 has 0/1 instances ready");

        (exit, output, _) = await GantryCliTests.RunAsync("retry", "shop", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success);
        output.Should().Contain("retried by");
    }

    [Fact(Timeout = 120_000)]
    public async Task Deploy_QueueWhileAnotherRolloutRuns_StartsWhenItEnds()
    {
        (await GantryCliTests.RunAsync("deploy", "shop", "--version", "1.0", "--wait", "--server", Server, "--data", Data)).Exit.Should().Be(ExitCodes.Success);
        (await GantryCliTests.RunAsync("deploy", "shop", "--version", "2.0", "--server", Server, "--data", Data)).Exit.Should().Be(ExitCodes.Success);
        var (exit, output, error) = await GantryCliTests.RunAsync("deploy", "shop", "--version", "3.0", "--queue", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().StartWith("shop 3.0 queued in default (#1): it starts when the active rollout ends");

        await EventuallyAsync(async () => (await GantryCliTests.RunAsync("status", "shop", "--server", Server, "--data", Data)).Out.Contains(">> 2. pause until promoted", StringComparison.Ordinal));
        (await GantryCliTests.RunAsync("promote", "shop", "--server", Server, "--data", Data)).Exit.Should().Be(ExitCodes.Success);
        await EventuallyAsync(async () => (await GantryCliTests.RunAsync("status", "shop", "--server", Server, "--data", Data)).Out.StartsWith("rollout shop-default-3: shop 3.0 (canary from 2.0)", StringComparison.Ordinal));
        (await GantryCliTests.RunAsync("history", "shop", "--output", "json", "--server", Server, "--data", Data)).Out.Should().Contain("\"createdBy\"");
        var events = await embedded.Server.Store.EventsAsync(0, "shop-default-3", 10, default);
        events[0].Message.Should().EndWith(", from the queue)");
    }

    [Fact(Timeout = 120_000)]
    public async Task Deploy_WaitOnATerminal_ShowsTheLiveView()
    {
        // `script` gives the command a pseudo-terminal, as a person's shell would.
        File.Exists("/usr/bin/script").Should().BeTrue("util-linux's script is part of every Debian system");
        (await GantryCliTests.RunAsync("deploy", "shop", "--version", "1.0", "--wait", "--server", Server, "--data", Data)).Exit.Should().Be(ExitCodes.Success);
        var command = $"dotnet {RepoPaths.GantryDll} deploy shop --version 2.0 --wait --server {Server} --data {Data}";
        var live = ChildProcess.RunAsync("script", ["-qec", command, "/dev/null"], TimeSpan.FromSeconds(90), new Dictionary<string, string> { ["COLUMNS"] = "100", ["TERM"] = "xterm-256color" });
        // Until the canary waits at its pause (a minute at most on a loaded machine), or the live deploy has ended (then its output says why).
        var status = string.Empty;
        for (var i = 0; i < 600 && !live.IsCompleted && !status.Contains(">> 2. pause until promoted", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
            status = (await GantryCliTests.RunAsync("status", "shop", "--server", Server, "--data", Data)).Out;
        }

        status.Should().Contain(">> 2. pause until promoted", live.IsCompleted ? $"the live deploy ended: {(await live).Stdout} {(await live).Stderr}" : "the canary reaches its pause");
        await Task.Delay(1000);
        (await GantryCliTests.RunAsync("promote", "shop", "--server", Server, "--data", Data)).Exit.Should().Be(ExitCodes.Success);

        var result = await live;
        result.ExitCode.Should().Be(ExitCodes.Success, result.Stdout);
        result.Stdout.Should().Contain("\u001b[", "colours and cursor movement: a live display");
        result.Stdout.Should().Contain("▶ 2. pause until promoted", "the current step is marked");
        result.Stdout.Should().Contain("█", "the traffic split is drawn as a bar").And.Contain("1.0 (stable)").And.Contain("2.0 (canary)");
        result.Stdout.Should().Contain("rollout shop-default-2: shop 2.0 (canary from 1.0) in default: Succeeded");
    }

    [Theory(Timeout = 30_000)]
    [InlineData(new[] { "promote", "nosuch" }, ExitCodes.BadInput, "gantry: there is no service 'nosuch' in the manifest (services: shop)")]
    [InlineData(new[] { "deploy", "shop", "--version", "bad version" }, ExitCodes.BadInput, "gantry: version 'bad version' is not valid")]
    [InlineData(new[] { "deploy", "shop", "--version", "1", "--set", "NOEQUALS" }, ExitCodes.BadInput, "gantry: --set 'NOEQUALS': expected KEY=VALUE")]
    [InlineData(new[] { "deploy", "shop", "--version", "1", "--env", "prod" }, ExitCodes.BadInput, "gantry: there is no environment 'prod' in the manifest (environments: default)")]
    [InlineData(new[] { "abort", "shop" }, ExitCodes.BadInput, "gantry: shop has never been deployed to default")]
    [InlineData(new[] { "rollback", "shop" }, ExitCodes.BadInput, "gantry: shop has no release running in default")]
    public async Task Commands_BadInput_ExitTwoWithOneReadableLine(string[] args, int code, string message)
    {
        var (exit, _, error) = await GantryCliTests.RunAsync([.. args, "--server", Server, "--data", Data]);
        exit.Should().Be(code);
        error.Should().StartWith(message);
        error.TrimEnd().Split('\n').Should().ContainSingle();
    }

    [Fact(Timeout = 30_000)]
    public async Task Status_ServerDown_ExitsThreeAndSaysHowToStartIt()
    {
        var (exit, _, error) = await GantryCliTests.RunAsync("status", "--server", $"127.0.0.1:{FreePort.Next()}");
        exit.Should().Be(ExitCodes.Unreachable);
        error.Should().Contain("cannot reach the gantry server at http://127.0.0.1:").And.Contain("start it with 'gantry server'");
    }

    internal static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300 && !await condition(); i++)
        {
            await Task.Delay(100);
        }

        (await condition()).Should().BeTrue();
    }
}
