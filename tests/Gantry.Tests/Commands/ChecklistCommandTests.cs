using System.Net;
using System.Net.Sockets;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>A deploy into an environment with a pre-deployment checklist, against a real embedded server: it waits, is signed off, starts.</summary>
public sealed class ChecklistCommandTests : IAsyncLifetime
{
    private readonly TcpListener database = new(IPAddress.Loopback, 0);
    private EmbeddedServer embedded = null!;

    private string Server => embedded.Address;

    private string Data => embedded.Data;

    public async ValueTask InitializeAsync()
    {
        database.Start();
        var port = ((IPEndPoint)database.LocalEndpoint).Port;
        embedded = await EmbeddedServer.StartAsync($$"""
            version: 1
            {{SampleService.ShopServices()}}
            environments:
              production:
                checklist:
                  - { name: database, tcp: { address: "127.0.0.1:{{port}}" } }
                  - { name: migrations, command: { args: ["true"] } }
                  - { name: qa, signoff: { role: qa } }
                  - { name: docs, signoff: { role: writers }, required: false }
            """, "gantry-checklist-");
    }

    public async ValueTask DisposeAsync()
    {
        await embedded.DisposeAsync();
        database.Stop();
        database.Dispose();
    }

    [Fact(Timeout = 90_000)]
    public async Task Deploy_WithAChecklist_WaitsForTheSignOffThenStarts()
    {
        var (exit, output, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "1.0", "-e", "production", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().Contain("Pending\n  waiting for the pre-deployment checklist of production");

        await RolloutCommandsTests.EventuallyAsync(async () => (await GantryCliTests.RunAsync("checklist", "shop-production-1", "--server", Server, "--data", Data)).Out.Contains("pass  database", StringComparison.Ordinal));
        (exit, output, _) = await GantryCliTests.RunAsync("checklist", "shop-production-1", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success);
        output.Should().StartWith("checklist of shop-production-1 (production): waiting for qa\n");
        output.Should().MatchRegex(@"  pass  database    tcp      127\.0\.0\.1:\d+ accepts connections\n");
        output.Should().Contain("  pass  migrations  command  true exited with 0\n");
        output.Should().Contain("  FAIL  qa          signoff  waiting for a sign-off by qa: gantry checklist shop-production-1 --sign qa\n");
        output.Should().EndWith("  FAIL  docs        signoff  waiting for a sign-off by writers: gantry checklist shop-production-1 --sign docs (not required)\n");
        (await embedded.Server.Store.GetAsync("shop-production-1", default))!.Phase.Should().Be(RolloutPhase.Pending, "nothing starts before the sign-off");

        (exit, _, error) = await GantryCliTests.RunAsync("checklist", "shop-production-1", "--sign", "database", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Be("gantry: 'database' is an automated tcp check: it passes by itself, not by a signature [not-a-signoff]\n");

        // Only a member of the group the item names signs it, and never the rollout's own deployer.
        (exit, _, error) = await GantryCliTests.RunAsync("checklist", "shop-production-1", "--sign", "qa", "--server", Server, "--data", Data);
        (exit, error).Should().Be((ExitCodes.Denied, "gantry: local-admin deployed this rollout: 'qa' must be signed off by someone else in qa [signoff-refused]\n"));
        var writer = await TokenAsync("wendy", "writers");
        (exit, _, error) = await TokenEnvironment.RunAsAsync(writer, "checklist", "shop-production-1", "--sign", "qa", "--server", Server);
        (exit, error).Should().Be((ExitCodes.Denied, "gantry: 'qa' is signed off by qa; wendy is not in that group (groups: writers) [signoff-refused]\n"));
        var tester = await TokenAsync("quinn", "qa");
        (exit, output, error) = await TokenEnvironment.RunAsAsync(tester, "checklist", "shop-production-1", "--sign", "qa", "--server", Server);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().Contain("signed off by quinn");
        (await ((Gantry.Core.Audit.IAuditStore)embedded.Server.Store).AuditAsync(new Gantry.Core.Audit.AuditQuery("shop/production", null, 100), default))
            .Should().Contain(e => e.Action == "checklist.signed" && e.Actor == "quinn", "a sign-off is found with the rollout's service and environment");
        output.Should().StartWith("checklist of shop-production-1 (production): passed\n").And.MatchRegex(@"  pass  qa          signoff  signed off by \S+ \(role qa\)");

        await RolloutCommandsTests.EventuallyAsync(async () => (await embedded.Server.Store.GetAsync("shop-production-1", default))!.Phase == RolloutPhase.Succeeded);
        var events = await embedded.Server.Store.EventsAsync(0, "shop-production-1", 20, default);
        events.Select(e => e.Type).Should().ContainInOrder("Created", "ChecklistPassed", "Succeeded");
        (await GantryCliTests.RunAsync("checklist", "shop-production-1", "--sign", "qa", "--server", Server, "--data", Data)).Err.Should().Contain("no longer waits for its checklist");
    }

    private async Task<string> TokenAsync(string name, string group)
    {
        var created = await embedded.Server.Tokens.CreateAsync(new TokenRequest(name, ["approver"], [group], ["production"]), new Gantry.Core.Audit.AuditContext("test"), default);
        return created.Value!.Secret;
    }
}
