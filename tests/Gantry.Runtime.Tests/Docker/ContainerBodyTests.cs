using System.Text.Json.Nodes;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Runtime;
using Gantry.Runtime.Docker;
using Gantry.Runtime.Process;

namespace Gantry.Runtime.Tests.Docker;

/// <summary>The Engine API create body of an instance: what the docker section says becomes the engine's fields, secrets stay out of the environment, and the configuration hash sees what matters.</summary>
public sealed class ContainerBodyTests
{
    private static readonly DockerSpec Section = new("registry.example/shop:{version}", ["--urls", "http://127.0.0.1:{port}"], [new("APP_VERSION", "{version}")], TimeSpan.FromSeconds(7), 256L * 1024 * 1024, 1.5)
    {
        Command = "/app/shop",
        Pids = 128,
        ReadOnly = true,
        User = "10001:10001",
        StopSignal = "SIGQUIT",
        Volumes = [new VolumeMount("./uploads", "/app/uploads", false), new VolumeMount("cache", "/cache", true)],
    };

    private static InstanceLaunch Launch(DockerSpec section, int port, IReadOnlyDictionary<string, string>? secrets = null)
    {
        var service = new ServiceSpec("shop", section, new Endpoint("127.0.0.1", 8080), 2, HealthSpec.None, RollingStrategy.Default, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(2));
        var spec = new InstanceSetSpec(service, "production", "2.0", 2, "/srv/app", new Dictionary<string, string>());
        var values = new Dictionary<string, string> { ["version"] = "2.0", ["port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var environment = section.Env.ToDictionary(e => e.Key, e => Placeholders.Expand(e.Value, values));
        return new InstanceLaunch(spec, "shop-production-2.0-1", 1, new Endpoint("127.0.0.1", port), values, environment) { Secrets = secrets ?? new Dictionary<string, string>() };
    }

    private static string[] Strings(JsonNode? node) => [.. node!.AsArray().Select(n => n!.GetValue<string>())];

    [Fact(Timeout = 10_000)]
    public void For_MapsTheSectionToTheEnginesFields_WithHostPathsFromTheManifestsFolder()
    {
        var body = ContainerBody.For(Launch(Section, 20001), "owner1", null);

        body["Image"]!.GetValue<string>().Should().Be("registry.example/shop:2.0");
        Strings(body["Entrypoint"]).Should().Equal("/app/shop");
        Strings(body["Cmd"]).Should().Equal("--urls", "http://127.0.0.1:20001");
        Strings(body["Env"]).Should().Equal("APP_VERSION=2.0");
        body["User"]!.GetValue<string>().Should().Be("10001:10001");
        body["StopSignal"]!.GetValue<string>().Should().Be("SIGQUIT");
        body["StopTimeout"]!.GetValue<int>().Should().Be(7);
        var host = body["HostConfig"]!;
        host["NetworkMode"]!.GetValue<string>().Should().Be("host");
        host["Memory"]!.GetValue<long>().Should().Be(256L * 1024 * 1024);
        host["MemorySwap"]!.GetValue<long>().Should().Be(256L * 1024 * 1024, "no swap beyond the limit");
        host["NanoCpus"]!.GetValue<long>().Should().Be(1_500_000_000);
        host["PidsLimit"]!.GetValue<int>().Should().Be(128);
        host["ReadonlyRootfs"]!.GetValue<bool>().Should().BeTrue();
        host["Tmpfs"]!["/tmp"]!.GetValue<string>().Should().StartWith("rw,");
        Strings(host["Binds"]).Should().Equal("/srv/app/uploads:/app/uploads", "cache:/cache:ro");
        var labels = body["Labels"]!;
        labels[ContainerBody.OwnerLabel]!.GetValue<string>().Should().Be("owner1");
        labels[ContainerBody.SetLabel]!.GetValue<string>().Should().Be("2.0");
        labels[ContainerBody.IndexLabel]!.GetValue<string>().Should().Be("1");
        labels[ContainerBody.PortLabel]!.GetValue<string>().Should().Be("20001");
    }

    [Fact(Timeout = 10_000)]
    public void For_Defaults_Nobody_SigtermAndNoLimits()
    {
        var plain = new DockerSpec("shop:{version}", [], [], TimeSpan.FromSeconds(10));

        var body = ContainerBody.For(Launch(plain, 20001), "owner1", null);

        body["User"]!.GetValue<string>().Should().Be(ContainerBody.Unprivileged);
        body["StopSignal"]!.GetValue<string>().Should().Be("SIGTERM");
        body.ContainsKey("Entrypoint").Should().BeFalse("the image's own entrypoint runs");
        var host = body["HostConfig"]!.AsObject();
        host.Select(p => p.Key).Should().BeEquivalentTo(["NetworkMode", "Init", "ReadonlyRootfs"]);
        ContainerBody.SignalNumber("SIGQUIT").Should().Be(3);
        ContainerBody.SignalNumber("SIGTERM").Should().Be(15);
    }

    [Fact(Timeout = 10_000)]
    public void Secrets_AreAReadOnlyMountAndFileNames_NeverValues_AndTheHashIgnoresTheirValues()
    {
        var one = ContainerBody.For(Launch(Section, 20001, new Dictionary<string, string> { ["DB_PASSWORD"] = "hunter2" }), "owner1", "/dev/shm/s/i1");
        var other = ContainerBody.For(Launch(Section, 20001, new Dictionary<string, string> { ["DB_PASSWORD"] = "another" }), "owner1", "/dev/shm/s/i1");

        one.ToJsonString().Should().NotContain("hunter2");
        Strings(one["Env"]).Should().Contain("DB_PASSWORD_FILE=/run/secrets/DB_PASSWORD");
        Strings(one["HostConfig"]!["Binds"]).Should().Contain("/dev/shm/s/i1:/run/secrets:ro");
        ContainerBody.ConfigurationOf(one).Should().Be(ContainerBody.ConfigurationOf(other), "a kept container is started again whatever the secret's value; the file is written again at each start");
    }

    [Fact(Timeout = 10_000)]
    public void ConfigurationHash_IsStable_AndChangesWithThePortOrTheSection()
    {
        var first = ContainerBody.ConfigurationOf(ContainerBody.For(Launch(Section, 20001), "owner1", null));

        ContainerBody.ConfigurationOf(ContainerBody.For(Launch(Section, 20001), "owner1", null)).Should().Be(first);
        ContainerBody.ConfigurationOf(ContainerBody.For(Launch(Section, 20002), "owner1", null)).Should().NotBe(first, "the port is in the arguments: another port is another container");
        ContainerBody.ConfigurationOf(ContainerBody.For(Launch(Section with { Pids = 256 }, 20001), "owner1", null)).Should().NotBe(first);
    }
}
