using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Around;

/// <summary>Jobs at hook points as real programs beside real instances: a failing migration, a failing smoke test.</summary>
[Collection(ServerTests.Name)]
public sealed class JobHookFunctionalTests(ITestOutputHelper log)
{
    private const string Migrate = """
        echo "migrating $GANTRY_SERVICE in $GANTRY_ENVIRONMENT to $GANTRY_VERSION (from ${GANTRY_PREVIOUS_VERSION:-nothing}), rollout $GANTRY_ROLLOUT at $GANTRY_HOOK"
        [ "$GANTRY_VERSION" = v1 ] && exit 0
        sleep 2
        echo "ERROR: column users.email already exists" >&2
        exit 3
        """;

    private const string Smoke = """
        import os, urllib.request
        for address in os.environ["GANTRY_ADDRESSES"].split(","):
            with urllib.request.urlopen(f"http://{address}/api/items", timeout=5) as answer:
                print(address, answer.status)
        """;

    private static async Task WriteScriptAsync(ServerHarness h, string name, string text)
    {
        var path = Path.Combine(h.Folder, name);
        await File.WriteAllTextAsync(path, text.ReplaceLineEndings("\n") + "\n");
    }

    [Fact(Timeout = 120_000)]
    public async Task FailingMigration_StopsTheDeploy_BeforeAnyInstanceOfTheReleaseStarts()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "rolling: { maxSurge: 1 }", service: """
            jobs:
              migrate: { at: preDeploy, args: [sh, migrate.sh], timeout: 30s }
            """));
        await WriteScriptAsync(h, "migrate.sh", Migrate);
        var first = await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        first.Rollout.Jobs.Should().ContainSingle().Which.Output.Should().Be("migrating shop in default to v1 (from nothing), rollout " + first.Rollout.Id + " at preDeploy");
        await using var load = new SteadyLoad(h.Front);

        var second = await h.DeployAsync("v2");
        var running = await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Message.StartsWith("running the preDeploy job migrate (try 1 of 1)", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        running.Rollout.Job!.Hook.Should().Be(JobHook.PreDeploy);
        var end = await h.WaitAsync(second.Rollout.Id, v =>
        {
            v.Instances.Should().OnlyContain(i => i.Version == "v1", "no instance of v2 starts before its migration passed");
            return v.Rollout.Phase.IsTerminal();
        }, TimeSpan.FromSeconds(30));

        end.Rollout.Phase.Should().Be(RolloutPhase.Failed);
        end.Rollout.Message.Should().MatchRegex(@"^preDeploy job migrate failed: exited with 3 after \d+\.\d s \(last line: ERROR: column users\.email already exists\); no instance of v2 was started$");
        var job = end.Rollout.Jobs.Should().ContainSingle().Subject;
        job.Should().Match<JobOutcome>(j => j.Name == "migrate" && j.Hook == JobHook.PreDeploy && !j.Succeeded && j.Tries == 1);
        job.Output.Should().Be($"migrating shop in default to v2 (from v1), rollout {second.Rollout.Id} at preDeploy\nERROR: column users.email already exists");
        end.Rollout.Sets.Should().NotContain(s => s.Version == "v2");
        var events = (await h.Api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{second.Rollout.Id}/events", GantryJson.Options))!;
        events.Select(e => e.Type).Should().Contain(["JobStarted", "JobFailed", "Failed"]);
        events.Should().NotContain(e => e.Type == "ScaledUp");
        await load.SettleAsync(TimeSpan.FromSeconds(10));
        load.Errors.Should().BeEmpty();
        load.Versions.Keys.Should().Equal("v1");
        log.WriteLine(end.Rollout.Message);
    }

    [Fact(Timeout = 120_000)]
    public async Task SmokeTest_BeforeTraffic_PassesAGoodRelease_AndAbortsABadOne_WhichNeverGetsARequest()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "canary: { steps: [{ setWeight: 50 }, { pause: {} }], abortScaleDownDelay: 2s }", service: """
            jobs:
              smoke: { at: preTraffic, args: [python3, smoke.py], timeout: 30s, retries: 1 }
            """));
        await WriteScriptAsync(h, "smoke.py", Smoke);
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(20, TimeSpan.FromSeconds(20));

        var good = await h.WaitForPhaseAsync((await h.DeployAsync("v2")).Rollout.Id, RolloutPhase.Paused);
        var passed = good.Rollout.Jobs.Should().ContainSingle().Subject;
        passed.Succeeded.Should().BeTrue();
        passed.Output.Should().MatchRegex(@"^127\.0\.0\.1:\d+ 200$", "the smoke test saw the canary's one instance");
        good.Traffic.Single(t => t.Version == "v2").Weight.Should().Be(50);
        await h.CommandAsync("abort");
        await h.WaitAsync(good.Rollout.Id, v => v.Traffic.All(t => t.Version == "v1"), TimeSpan.FromSeconds(10));
        await load.SettleAsync(TimeSpan.FromSeconds(10));
        var before = load.Versions.GetValueOrDefault("v3");

        var bad = await h.DeployAsync("v3", new() { ["FAULT_ERROR_RATE"] = "1" });
        var end = await h.WaitAsync(bad.Rollout.Id, v => v.Rollout.Phase.IsTerminal(), TimeSpan.FromSeconds(60));
        end.Rollout.Phase.Should().Be(RolloutPhase.Aborted);
        end.Rollout.Message.Should().MatchRegex(@"^preTraffic job smoke failed: exited with 1 after \d+\.\d s \(try 2 of 2\) \(last line: urllib\.error\.HTTPError: HTTP Error 500: Internal Server Error\); v3 never got traffic$");
        end.Rollout.Jobs.Single().Tries.Should().Be(2);
        await load.SettleAsync(TimeSpan.FromSeconds(10));
        load.Versions.GetValueOrDefault("v3").Should().Be(before).And.Be(0, "a release whose smoke test failed never gets a request");
        load.Errors.Should().BeEmpty();
        log.WriteLine($"{load.Requests} requests, none failed; {end.Rollout.Message}");
    }
}
