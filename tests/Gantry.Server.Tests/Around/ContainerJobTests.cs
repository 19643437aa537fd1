using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Around;

/// <summary>A job as a container of a real Docker engine: the sample's own migration, run from the release's image before it starts.</summary>
[Collection(ServerTests.Name)]
public sealed class ContainerJobTests(ITestOutputHelper log)
{
    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task MigrationInTheReleasesImage_RunsBeforeItStarts_AndItsFailureStopsTheDeploy()
    {
        await using var daemon = await DockerDaemon.StartAsync();
        await daemon.BuildShopImagesAsync("1.0", "2.0");
        using var host = daemon.AsDockerHost();
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "rolling: { maxSurge: 1 }", service: """
            jobs:
              migrate: { at: preDeploy, image: "gantry-shop:{version}", args: [migrate], timeout: 1m }
            """));

        var first = await h.WaitForPhaseAsync((await h.DeployAsync("1.0")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        var passed = first.Rollout.Jobs.Should().ContainSingle().Subject;
        passed.Should().Match<JobOutcome>(j => j.Succeeded && j.Hook == JobHook.PreDeploy);
        passed.Output.Should().Be("migrating the shop's schema to 1.0\nschema up to date", "the container ran the release's own image with the release's facts");

        var second = await h.DeployAsync("2.0", new() { ["MIGRATION_FAILS"] = "relation \"orders\" already exists" });
        var end = await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Phase.IsTerminal(), TimeSpan.FromMinutes(2));
        end.Rollout.Phase.Should().Be(RolloutPhase.Failed);
        end.Rollout.Message.Should().MatchRegex(@"^preDeploy job migrate failed: exited with 3 after \d+\.\d s \(last line: ERROR: relation ""orders"" already exists\); no instance of 2\.0 was started$");
        end.Instances.Should().OnlyContain(i => i.Version == "1.0");
        var left = await daemon.DockerAsync(["ps", "-a", "--filter", "label=org.gantry.job", "--format", "{{.Names}}"]);
        left.Stdout.Trim().Should().BeEmpty("a job's container is removed once it ended");
        log.WriteLine(end.Rollout.Message);
    }
}
