using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>The deploy queue from the CLI (list, cancel, bounded), and user text that can never forge lines of the CLI's output.</summary>
public sealed class QueueAndOutputTests : IAsyncLifetime
{
    private EmbeddedServer embedded = null!;

    public async ValueTask InitializeAsync() => embedded = await EmbeddedServer.StartAsync($$"""
        version: 1
        services:
          shop:
            {{SampleService.Process(4)}}
            listen: 127.0.0.1:{{FreePort.Next()}}
            health:
              readiness: { path: /health/ready, interval: 200ms }
            strategy:
              canary: { steps: [{ setWeight: 50 }, { pause: {} }] }
        """, "gantry-queue-");

    public async ValueTask DisposeAsync() => await embedded.DisposeAsync();

    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) =>
        GantryCliTests.RunAsync([.. args, "--server", embedded.Address, "--data", embedded.Data]);

    [Fact(Timeout = 120_000)]
    public async Task Queue_ListCancelAndBound_FromTheCli()
    {
        (await RunAsync("deploy", "shop", "-v", "1.0", "--wait")).Exit.Should().Be(ExitCodes.Success);
        (await RunAsync("deploy", "shop", "-v", "2.0")).Exit.Should().Be(ExitCodes.Success);
        await RolloutCommandsTests.EventuallyAsync(async () => (await embedded.Server.Store.GetAsync("shop-default-2", default))!.Phase == Gantry.Core.Rollouts.RolloutPhase.Paused);

        var (exit, output, error) = await RunAsync("deploy", "shop", "-v", "3.0", "--queue");
        (exit, output).Should().Be((ExitCodes.Success, "shop 3.0 queued in default (#1): it starts when the active rollout ends\n"), error);
        (await RunAsync("deploy", "shop", "-v", "4.0", "--queue")).Exit.Should().Be(ExitCodes.Success);
        (exit, output, _) = await RunAsync("queue");
        output.Should().MatchRegex(@"^#1  shop 3\.0 to default, queued by local-admin at \d{4}-\d\d-\d\d \d\d:\d\d UTC\n#2  shop 4\.0 to default, queued by local-admin at .*\n$");

        (exit, output, error) = await RunAsync("queue", "cancel", "1", "--reason", "superseded by 4.0");
        (exit, output).Should().Be((ExitCodes.Success, "cancelled #1: shop 3.0 to default will not start\n"), error);
        (await RunAsync("queue", "shop")).Out.Should().StartWith("#2  shop 4.0");
        (exit, _, error) = await RunAsync("queue", "cancel", "1");
        (exit, error).Should().Be((ExitCodes.BadInput, "gantry: no deploy #1 waits in the queue (it started, was cancelled, or never was) [not-queued]\n"));
        (await RunAsync("audit", "--service", "shop")).Out.Should().Contain("queue.removed").And.Contain("queued deploy #1 of shop 3.0 to default removed: cancelled by local-admin: superseded by 4.0");

        for (var v = 5; v < 14; v++)
        {
            (await RunAsync("deploy", "shop", "-v", $"{v}.0", "--queue")).Exit.Should().Be(ExitCodes.Success);
        }

        (exit, _, error) = await RunAsync("deploy", "shop", "-v", "14.0", "--queue");
        (exit, error).Should().Be((ExitCodes.BadInput, "gantry: 10 deploys of shop already wait in default: cancel one (gantry queue cancel ID) or wait [queue-full]\n"));
    }

    [Fact(Timeout = 120_000)]
    public async Task UserText_WithLineBreaksAndEscapes_IsShownEscapedNeverAsNewLines()
    {
        (await RunAsync("deploy", "shop", "-v", "1.0", "--wait")).Exit.Should().Be(ExitCodes.Success);
        (await RunAsync("deploy", "shop", "-v", "2.0")).Exit.Should().Be(ExitCodes.Success);
        await RolloutCommandsTests.EventuallyAsync(async () => (await embedded.Server.Store.GetAsync("shop-default-2", default))!.Phase == Gantry.Core.Rollouts.RolloutPhase.Paused);
        var forged = "mistake\n2026-01-01 00:00  root  rollout.Succeeded  shop/default  all good\r\u001b[2K\u001b[32mOK\u001b[0m \u202Eevil";
        (await RunAsync("abort", "shop", "--reason", forged)).Exit.Should().Be(ExitCodes.Success);

        foreach (var args in new[] { new[] { "audit", "--service", "shop" }, ["status", "shop"], ["history", "shop"] })
        {
            var (exit, output, error) = await RunAsync(args);
            exit.Should().Be(ExitCodes.Success, error);
            output.Should().NotContain("\r").And.NotContain("\u001b").And.NotContain("\u202E", string.Join(' ', args));
            output.Split('\n').Should().NotContain(l => l.StartsWith("2026-01-01 00:00  root", StringComparison.Ordinal), "a reason never starts a line of its own");
            if (args[0] == "audit")
            {
                output.Should().Contain("mistake\\n2026-01-01 00:00  root  rollout.Succeeded").And.Contain("\\r\\e[2K\\e[32mOK\\e[0m \\u202Eevil");
            }
        }
    }
}
