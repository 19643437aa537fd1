using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>Deploys refused by an environment's freeze, against a real embedded server, with the rule and the reason.</summary>
public sealed class CalendarCommandTests : IAsyncLifetime
{
    private EmbeddedServer embedded = null!;

    public async ValueTask InitializeAsync() => embedded = await EmbeddedServer.StartAsync($$"""
        version: 1
        {{SampleService.ShopServices()}}
        environments:
          staging: {}
          production:
            {{SampleService.OwnListen()}}
            freezes:
              - { monthly: { fromDay: 1, toDay: 31 }, reason: the change board meets next quarter }
        """, "gantry-calendar-");

    public async ValueTask DisposeAsync() => await embedded.DisposeAsync();

    [Fact(Timeout = 60_000)]
    public async Task Deploy_DuringAFreeze_IsRefusedWithTheRuleAndNothingStarts()
    {
        var (exit, _, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "1.0", "-e", "production", "--server", embedded.Address, "--data", embedded.Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().MatchRegex(@"^gantry: deploys to production are frozen from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d UTC \(the change board meets next quarter\); no allowed time in the next 400 days \[frozen\]\n$");
        (await embedded.Server.Store.ListAsync(new Gantry.Core.Rollouts.RolloutQuery("shop", "production"), default)).Should().BeEmpty();

        (await GantryCliTests.RunAsync("deploy", "shop", "-v", "1.0", "-e", "staging", "--server", embedded.Address, "--data", embedded.Data)).Exit.Should().Be(ExitCodes.Success);
    }

    [Fact(Timeout = 60_000)]
    public async Task FreezeAndUnfreeze_DuringAnIncident_CloseAndReopenTheEnvironmentWithAnAuditTrail()
    {
        var server = embedded.Address;
        var (exit, output, error) = await GantryCliTests.RunAsync("freeze", "staging", "--reason", "incident 42", "--server", server, "--data", embedded.Data);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().Be("staging is frozen until lifted (gantry unfreeze staging): incident 42\n");

        (exit, _, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "1.0", "-e", "staging", "--server", server, "--data", embedded.Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().MatchRegex(@"^gantry: deploys to staging are frozen by \S+ since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(incident 42\), until lifted \(gantry unfreeze staging\) \[frozen\]\n$");

        (exit, output, error) = await GantryCliTests.RunAsync("unfreeze", "staging", "--server", server, "--data", embedded.Data);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().MatchRegex(@"^staging is open again: lifted \S+'s freeze \(incident 42\)\n$");
        (await GantryCliTests.RunAsync("unfreeze", "staging", "--server", server, "--data", embedded.Data)).Err.Should().Contain("staging has no declared freeze to lift");
        (await GantryCliTests.RunAsync("freeze", "staging", "--reason", "x", "--for", "soon", "--server", server, "--data", embedded.Data)).Exit.Should().Be(ExitCodes.BadInput);

        (await GantryCliTests.RunAsync("deploy", "shop", "-v", "1.0", "-e", "staging", "--server", server, "--data", embedded.Data)).Exit.Should().Be(ExitCodes.Success);
        var audit = (await GantryCliTests.RunAsync("audit", "--service", "staging", "--server", server, "--data", embedded.Data)).Out;
        audit.Should().Contain("environment.frozen").And.Contain("deploys frozen until lifted (why: incident 42)").And.Contain("environment.unfrozen");
    }
}
