using System.Text.Json.Nodes;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Runtime;
using Gantry.Runtime.Docker;
using Gantry.Runtime.Swarm;

namespace Gantry.Runtime.Tests.Swarm;

/// <summary>The Engine API spec of a swarm service for a release set: the port template per slot, placement, limits, labels, secrets and the name.</summary>
public sealed class SwarmServiceBodyTests
{
    private static readonly SwarmSpec Section = new(
        new DockerSpec("registry.example/shop:{version}", ["--verbose", "{service}"], [new("ASPNETCORE_URLS", "http://0.0.0.0:{port}")], TimeSpan.FromSeconds(7), 256L << 20, 0.5)
        {
            Command = "/app/shop",
            Pids = 64,
            ReadOnly = true,
            Volumes = [new VolumeMount("cache", "/cache", true)],
        },
        new SwarmPlacement(["node.role==worker"], ["node.labels.zone"], 2));

    private static InstanceSetSpec Spec(string environment = "production") =>
        new(new ServiceSpec("shop", Section, new Endpoint("127.0.0.1", 8080), 3, HealthSpec.None, RollingStrategy.Default, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(2)),
            environment, "2.0", 3, "/srv/app", new Dictionary<string, string>());

    private static string[] Strings(JsonNode? node) => [.. node!.AsArray().Select(n => n!.GetValue<string>())];

    [Fact(Timeout = 10_000)]
    public void PortTemplate_IsTheBasePlusTheSlot_PaddedToTwoDigits()
    {
        SwarmServiceBody.PortTemplate(30100).Should().Be("301{{if lt (len .Task.Slot) 2}}0{{end}}{{.Task.Slot}}");
        SwarmServiceBody.PortTemplate(45600).Should().StartWith("456{{");
    }

    [Fact(Timeout = 10_000)]
    public void For_MapsTheSectionToTheEnginesFields()
    {
        var spec = Spec();
        var values = SwarmServiceBody.Values(spec, 30100);
        var environment = Section.Env.ToDictionary(e => e.Key, e => Placeholders.Expand(e.Value, values));
        var body = SwarmServiceBody.For(spec, "owner1", 30100, environment, [new SwarmSecretRef("SHOP_KEY", "sid", "secret-name")]);

        var task = body["TaskTemplate"]!;
        var container = task["ContainerSpec"]!;
        container["Image"]!.GetValue<string>().Should().Be("registry.example/shop:2.0");
        Strings(container["Command"]).Should().Equal("/app/shop");
        Strings(container["Args"]).Should().Equal("--verbose", "shop");
        Strings(container["Env"]).Should().Equal("ASPNETCORE_URLS=http://0.0.0.0:301{{if lt (len .Task.Slot) 2}}0{{end}}{{.Task.Slot}}", "SHOP_KEY_FILE=/run/secrets/SHOP_KEY");
        container["User"]!.GetValue<string>().Should().Be("65534:65534", "never root");
        container["StopGracePeriod"]!.GetValue<long>().Should().Be(7_000_000_000);
        container["ReadOnly"]!.GetValue<bool>().Should().BeTrue();
        container["Mounts"]!.AsArray().Select(m => m!["Target"]!.GetValue<string>()).Should().Equal("/cache", "/tmp");
        var secret = container["Secrets"]![0]!;
        (secret["SecretID"]!.GetValue<string>(), secret["File"]!["Name"]!.GetValue<string>(), secret["File"]!["UID"]!.GetValue<string>(), secret["File"]!["Mode"]!.GetValue<int>())
            .Should().Be(("sid", "SHOP_KEY", "65534", 256), "readable by the task's user only");
        container["Labels"]![ContainerBody.OwnerLabel].Should().BeNull("the docker runtime's sweeps by owner never see tasks");
        container["Labels"]![SwarmServiceBody.TaskOwnerLabel]!.GetValue<string>().Should().Be("owner1");

        task["Resources"]!["Limits"]!["MemoryBytes"]!.GetValue<long>().Should().Be(256L << 20);
        task["Resources"]!["Limits"]!["NanoCPUs"]!.GetValue<long>().Should().Be(500_000_000);
        task["Resources"]!["Limits"]!["Pids"]!.GetValue<int>().Should().Be(64);
        Strings(task["Placement"]!["Constraints"]).Should().Equal("node.role==worker");
        task["Placement"]!["Preferences"]![0]!["Spread"]!["SpreadDescriptor"]!.GetValue<string>().Should().Be("node.labels.zone");
        task["Placement"]!["MaxReplicas"]!.GetValue<int>().Should().Be(2);
        task["Networks"]![0]!["Target"]!.GetValue<string>().Should().Be("host");
        body["Mode"]!["Replicated"]!["Replicas"]!.GetValue<int>().Should().Be(3);
        body["Labels"]![SwarmServiceBody.PortBaseLabel]!.GetValue<string>().Should().Be("30100", "a new control plane finds the set's ports again");
        body["Labels"]![ContainerBody.VersionLabel]!.GetValue<string>().Should().Be("2.0");
    }

    [Fact(Timeout = 10_000)]
    public void NameOf_IsAValidServiceName_DistinctPerOwnerAndSet()
    {
        var name = SwarmServiceBody.NameOf("owner1", new InstanceSetId("Shop_API", "eu/prod", "2.0~baseline"));
        name.Should().MatchRegex("^gantry-[a-z0-9-]+-[0-9a-f]{8}$").And.StartWith("gantry-shop-api-eu-prod-2-0-baseline-");
        name.Length.Should().BeLessThanOrEqualTo(63);
        SwarmServiceBody.NameOf("owner2", new InstanceSetId("Shop_API", "eu/prod", "2.0~baseline")).Should().NotBe(name);
        SwarmServiceBody.NameOf("o", new InstanceSetId(new string('s', 80), "production", "1.0")).Length.Should().BeLessThanOrEqualTo(63);
    }
}
