using Gantry.Core.Manifest;

namespace Gantry.Core.Tests.Manifest;

/// <summary>Which services may serve on a listen address: their own listener unless overridden, or an environment's override of theirs.</summary>
public sealed class FrontDoorTests
{
    private const string Text = """
        version: 1
        services:
          shop:
            process: { command: shop }
            listen: 127.0.0.1:8080
          cart:
            process: { command: cart }
            listen: 127.0.0.1:8081
          search:
            process: { command: search }
            listen: 127.0.0.1:8082
        environments:
          staging:
            overrides:
              cart: { listen: 127.0.0.1:7070 }
          production:
            overrides:
              shop: { listen: 127.0.0.1:9080 }
        """;

    [Theory(Timeout = 10_000)]
    [InlineData("127.0.0.1:8080", "shop")]   // shop's own (outside production)
    [InlineData("127.0.0.1:9080", "shop")]   // its override's in production
    [InlineData("127.0.0.1:7070", "cart")]   // cart's override's in staging
    [InlineData("127.0.0.1:8081", "cart")]
    [InlineData("127.0.0.1:8082", "search")]
    [InlineData("127.0.0.1:7000", "")]
    public void MayListenOn_NamesEveryServiceWithATargetThere(string listen, string services)
    {
        var loaded = ManifestLoader.LoadText(Text);
        loaded.ErrorCount.Should().Be(0, string.Join("\n", loaded.Diagnostics.Where(d => d.Severity == Severity.Error)));
        var manifest = loaded.Manifest!;
        var colon = listen.LastIndexOf(':');
        var address = new Core.Manifest.Values.Endpoint(listen[..colon], int.Parse(listen[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));

        EffectiveService.MayListenOn(manifest, address).Select(s => s.Name).Should().Equal(services.Split(',', StringSplitOptions.RemoveEmptyEntries));

        // Every target whose effective listener is there is of a service named.
        var targets = from service in manifest.Services
                      from environment in manifest.Environments.Select(e => e.Name)
                      where EffectiveService.For(manifest, service, environment).Listen == address
                      select service.Name;
        targets.Should().BeSubsetOf(EffectiveService.MayListenOn(manifest, address).Select(s => s.Name));
    }
}
