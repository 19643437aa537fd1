using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>The promotion lifecycle against a real embedded server: production takes a release only after it succeeded and soaked in staging.</summary>
public sealed class PromotionCommandTests : IAsyncLifetime
{
    private EmbeddedServer embedded = null!;

    public async ValueTask InitializeAsync() => embedded = await EmbeddedServer.StartAsync($$"""
        version: 1
        {{SampleService.ShopServices()}}
        environments:
          staging: {}
          production:
            promotion: { from: staging, soak: 3s }
            {{SampleService.OwnListen()}}
          production-eu:
            promotion: { from: staging, soak: 3s, auto: true }
            {{SampleService.OwnListen()}}
        """, "gantry-promotion-");

    public async ValueTask DisposeAsync() => await embedded.DisposeAsync();

    [Fact(Timeout = 90_000)]
    public async Task PromoteRelease_ToProduction_NeedsSuccessThenSoakInStaging()
    {
        var server = embedded.Address;
        var (exit, _, error) = await GantryCliTests.RunAsync("promote-release", "shop", "1.0", "--to", "production", "--server", server, "--data", embedded.Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Be("gantry: shop 1.0 has not succeeded in staging: production takes releases from staging only [not-promoted]\n");

        (exit, _, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "1.0", "-e", "staging", "--wait", "--server", server, "--data", embedded.Data);
        exit.Should().Be(ExitCodes.Success, error);
        (exit, _, error) = await GantryCliTests.RunAsync("promote-release", "shop", "1.0", "--to", "production", "--server", server, "--data", embedded.Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().MatchRegex(@"^gantry: shop 1\.0 has soaked in staging for [0-2]s of 3s: it may enter production from \d{4}-\d\d-\d\d \d\d:\d\d UTC \[not-promoted\]\n$");

        await Task.Delay(TimeSpan.FromSeconds(3));
        (exit, var output, error) = await GantryCliTests.RunAsync("promote-release", "shop", "1.0", "--to", "production", "--wait", "--server", server, "--data", embedded.Data);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().Contain("deploy of shop 1.0 to production");

        // production-eu promotes by itself once the soak is over.
        await RolloutCommandsTests.EventuallyAsync(async () =>
            (await embedded.Server.Store.ListAsync(new Gantry.Core.Rollouts.RolloutQuery("shop", "production-eu"), default)) is [{ Phase: Gantry.Core.Rollouts.RolloutPhase.Succeeded } only]
            && only.CreatedBy == "gantry (auto-promotion)" && only.Release.Version == "1.0");
    }
}
