using Gantry.Core.Manifest;

namespace Gantry.Core.Tests.Manifest;

/// <summary>The swarm section as read: the container's keys as for docker, placement, {port} in the environment only.</summary>
public sealed class SwarmSectionTests
{
    [Fact(Timeout = 10_000)]
    public void Swarm_ReadsTheContainerAndItsPlacement_AndWarnsWhenTasksAreNeverToldTheirPort()
    {
        var loaded = ManifestLoader.LoadText("""
            version: 1
            services:
              shop:
                swarm:
                  image: "registry.example/shop:{version}"
                  args: [--verbose]
                  env: { ASPNETCORE_URLS: "http://0.0.0.0:{port}" }
                  memory: 256
                  cpus: 0.5
                  stopTimeout: 20s
                  volumes: ["cache:/cache:ro"]
                  placement:
                    constraints: [node.role==worker, node.labels.disk!=hdd]
                    spread: [node.labels.zone]
                    maxPerNode: 2
                listen: 127.0.0.1:8080
                replicas: 4
                health: { readiness: { path: /ready } }
            """);
        loaded.ErrorCount.Should().Be(0, string.Join("\n", loaded.Diagnostics));
        loaded.Diagnostics.Should().BeEmpty();
        var swarm = loaded.Manifest!.Services[0].Runtime.Should().BeOfType<SwarmSpec>().Subject;
        swarm.Kind.Should().Be("swarm");
        swarm.Container.Image.Should().Be("registry.example/shop:{version}");
        swarm.Container.Args.Should().Equal("--verbose");
        swarm.Env.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, string>("ASPNETCORE_URLS", "http://0.0.0.0:{port}"));
        swarm.StopTimeout.Should().Be(TimeSpan.FromSeconds(20));
        swarm.Container.MemoryBytes.Should().Be(256L << 20);
        swarm.Container.Volumes.Should().Equal(new VolumeMount("cache", "/cache", true));
        swarm.Placement.Should().Be(new SwarmPlacement(["node.role==worker", "node.labels.disk!=hdd"], ["node.labels.zone"], 2));
        (swarm with { Env = [new("A", "b")] }).Container.Env.Should().ContainSingle("the environment is the container's").Which.Should().Be(new KeyValuePair<string, string>("A", "b"));

        var silent = ManifestLoader.LoadText("""
            version: 1
            services:
              shop:
                swarm: { image: "shop:{version}" }
                listen: 127.0.0.1:8080
                health: { readiness: { path: /ready } }
            """);
        silent.ErrorCount.Should().Be(0);
        silent.Diagnostics.Should().ContainSingle().Which.ToString().Should().Be("gantry.yaml:4:12: warning: the tasks are never told their port: give {port} in 'env' (for example ASPNETCORE_URLS: http://0.0.0.0:{port})");
    }
}
