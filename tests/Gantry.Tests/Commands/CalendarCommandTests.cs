using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>Deploys refused by an environment's freeze, against a real embedded server, with the rule and the reason.</summary>
public sealed class CalendarCommandTests : IAsyncLifetime
{
    private EmbeddedServer embedded = null!;

    public async Task InitializeAsync() => embedded = await EmbeddedServer.StartAsync($$"""
        version: 1
        {{SampleService.ShopServices()}}
        environments:
          staging: {}
          production:
            freezes:
              - { monthly: { fromDay: 1, toDay: 31 }, reason: the change board meets next quarter }
        """, "gantry-calendar-");

    public async Task DisposeAsync() => await embedded.DisposeAsync();

    [Fact(Timeout = 60_000)]
    public async Task Deploy_DuringAFreeze_IsRefusedWithTheRuleAndNothingStarts()
    {
        var (exit, _, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "1.0", "-e", "production", "--server", embedded.Address);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().MatchRegex(@"^gantry: deploys to production are frozen from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d UTC \(the change board meets next quarter\); no allowed time in the next 400 days\n$");
        (await embedded.Server.Store.ListAsync(new Gantry.Core.Rollouts.RolloutQuery("shop", "production"), default)).Should().BeEmpty();

        (await GantryCliTests.RunAsync("deploy", "shop", "-v", "1.0", "-e", "staging", "--server", embedded.Address)).Exit.Should().Be(ExitCodes.Success);
    }
}
