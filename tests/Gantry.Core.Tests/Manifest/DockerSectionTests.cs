using Gantry.Core.Manifest;
using Gantry.Core.Runtime;

namespace Gantry.Core.Tests.Manifest;

/// <summary>The docker section as read, and an environment's override of a service's runtime section.</summary>
public sealed class DockerSectionTests
{
    private const string Text = """
        version: 1
        services:
          shop:
            process: { command: dotnet, args: [shop.dll, --urls, "http://127.0.0.1:{port}"], env: { LOG: info } }
            listen: 127.0.0.1:8080
            health: { readiness: { path: /ready } }
        environments:
          development: {}
          production:
            variables: { REGION: eu }
            overrides:
              shop:
                docker:
                  image: "registry.example/shop:{version}"
                  args: [--urls, "http://127.0.0.1:{port}"]
                  env: { LOG: warn }
                  memory: 512
                  pids: 128
                  readOnly: true
                  user: "10001:10001"
                  stopSignal: SIGQUIT
                  volumes: ["./uploads:/app/uploads", "cache:/cache:ro"]
                  retain: { releases: 3, warm: true }
        """;

    [Fact(Timeout = 10_000)]
    public void Override_ReplacesTheRuntimeSectionInItsEnvironmentOnly_WithTheEnvironmentsVariables()
    {
        var loaded = ManifestLoader.LoadText(Text);
        loaded.ErrorCount.Should().Be(0, string.Join("\n", loaded.Diagnostics));
        var manifest = loaded.Manifest!;
        var shop = manifest.FindService("shop")!;

        EffectiveService.For(manifest, shop, "development").Runtime.Should().BeOfType<ProcessSpec>();
        var production = EffectiveService.For(manifest, shop, "production").Runtime.Should().BeOfType<DockerSpec>().Subject;
        production.Image.Should().Be("registry.example/shop:{version}");
        production.Env.Should().Equal(new KeyValuePair<string, string>("LOG", "warn"), new KeyValuePair<string, string>("REGION", "eu"));
        production.MemoryBytes.Should().Be(512L * 1024 * 1024);
        production.Pids.Should().Be(128);
        production.ReadOnly.Should().BeTrue();
        production.User.Should().Be("10001:10001");
        production.StopSignal.Should().Be("SIGQUIT");
        production.Volumes.Should().Equal(new VolumeMount("./uploads", "/app/uploads", false), new VolumeMount("cache", "/cache", true));
        production.Volumes[0].IsHostPath.Should().BeTrue();
        production.Volumes[1].IsHostPath.Should().BeFalse();
        production.Retain.Should().Be(new RetainSpec(3, RetainSpec.DefaultFor, true));
        EffectiveService.RuntimesOf(manifest, shop).Select(r => r.Kind).Should().Equal("process", "docker");
    }

    [Fact(Timeout = 10_000)]
    public void RuntimeFit_NamesEveryServiceWhoseSectionsNoRuntimeRuns_OverridesIncluded()
    {
        var manifest = ManifestLoader.LoadText(Text).Manifest!;

        RuntimeFit.Problems(new ProcessOnly(), manifest).Should().Equal("service 'shop' has a 'docker' section, but the runtime in use is 'process'");
    }

    private sealed class ProcessOnly : IRuntime
    {
        public string Name => "process";

        public RuntimeCapabilities Capabilities => RuntimeCapabilities.None;

        public Task<IReadOnlyList<InstanceStatus>> EnsureAsync(InstanceSetSpec spec, CancellationToken ct) => throw new NotSupportedException();

        public Task StopAsync(InstanceSetId setId, CancellationToken ct) => throw new NotSupportedException();

        public IReadOnlyList<InstanceStatus> Observe() => [];

        public Task<IReadOnlyList<string>> LogsAsync(string instanceId, CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([]);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
