using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using Gantry.Api;
using Gantry.Core.Audit;
using Gantry.Core.Gates;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Server.Access;
using Gantry.Server.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Security;

/// <summary>
/// What a deployer, an approver or a CI token may do to production through the API, with real instances: settings
/// but no code on the host, rollbacks only to what ran there, a same-version deploy that cannot take production
/// down, bounded requests, scoped incidents and gates, no secret revealed by a comparison.
/// </summary>
[Collection(ServerTests.Name)]
public sealed class DeploySafetyTests
{
    private const int Timeout = 180_000;
    private const string Canary = "canary: { steps: [{ setWeight: 50 }, { pause: {} }], abortScaleDownDelay: 1s }";

    private static string Manifest(Endpoint listen, int productionPort) => ServerHarness.ManifestText(listen, Canary, replicas: 1, extra: $$"""
        environments:
          development: {}
          production:
            gate: release
            overrides: { shop: { listen: 127.0.0.1:{{productionPort}} } }
        gates:
          release:
            categories:
              tests:
                criteria:
                  - { measure: failed, failWhen: "> 0", blocking: true }
        """).Replace("    listen:", "    variables: { allow: [DOTNET_gcServer] }\n    listen:", StringComparison.Ordinal);

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, text);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        return JsonDocument.Parse(text).RootElement;
    }

    private static Task<HttpResponseMessage> PostAsync(ServerHarness h, string path, object body, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: GantryJson.Options) };
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return h.Api.SendAsync(request);
    }

    private static async Task<string> TokenAsync(ServerHarness h, string identity, string[] roles, string[] environments, string[]? groups = null) =>
        (await h.Server.Tokens.CreateAsync(new TokenRequest(identity, roles, groups ?? [], environments), new AuditContext("test"), default)).Value!.Secret;

    [Fact(Timeout = Timeout)]
    public async Task Deploy_LoaderHooksControlCharactersAndHugeRequests_AreRefusedAndChangeNothing()
    {
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, FreePort.Next()));
        foreach (var (name, value) in new[] { ("LD_PRELOAD", "/tmp/x.so"), ("COREHOST_TRACE", "1"), ("DOTNET_STARTUP_HOOKS", "/tmp/h.dll"), ("PATH", "/tmp"), ("BASH_ENV", "/tmp/x") })
        {
            using var refused = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", "development", new Dictionary<string, string> { [name] = value }));
            var problem = await ProblemAsync(refused, HttpStatusCode.BadRequest);
            problem.GetProperty("code").GetString().Should().Be("invalid-variable");
            problem.GetProperty("detail").GetString().Should().StartWith($"variable {name} may not be set by a deploy");
        }

        using (var newline = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", "development", new Dictionary<string, string> { ["COREHOST_TRACEFILE_X"] = "a\nb", ["NOTE"] = "line\nbreak" })))
        {
            (await ProblemAsync(newline, HttpStatusCode.BadRequest)).GetProperty("detail").GetString().Should().Contain("holds a control character");
        }

        using (var huge = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", "development", Enumerable.Range(0, 5000).ToDictionary(i => $"V{i}", i => "x"))))
        {
            (await ProblemAsync(huge, HttpStatusCode.RequestEntityTooLarge)).GetProperty("detail").GetString().Should().Be("5000 variables: a deploy may give at most 200");
        }

        using (var longReason = await PostAsync(h, "/api/v1/rollouts/shop-development-1/abort", new CommandRequest(new string('r', 5000))))
        {
            (await ProblemAsync(longReason, HttpStatusCode.RequestEntityTooLarge)).GetProperty("detail").GetString().Should().Be("the reason is 5000 characters long: at most 2000");
        }

        // Expect: 100-continue, so that the client waits for the answer before sending 2 MiB the server will not read
        // (otherwise the server may close the connection while the body is still being written: a broken pipe).
        using (var oversized = new HttpRequestMessage(HttpMethod.Post, "/api/v1/rollouts")
        {
            Content = new StringContent("{\"service\":\"shop\",\"version\":\"v1\",\"set\":{\"A\":\"" + new string('x', 2 * 1024 * 1024) + "\"}}", System.Text.Encoding.UTF8, "application/json"),
            Headers = { ExpectContinue = true },
        })
        using (var megabytes = await h.Api.SendAsync(oversized))
        {
            (await ProblemAsync(megabytes, HttpStatusCode.RequestEntityTooLarge)).GetProperty("status").GetInt32().Should().Be(413, "a body over 1 MiB is refused before it is read");
        }

        (await h.Server.Store.ListAsync(new RolloutQuery(), default)).Should().BeEmpty("no refused deploy stored anything");

        // The manifest allows one runtime variable by name: that one goes through.
        using var allowed = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", "development", new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" }));
        allowed.StatusCode.Should().Be(HttpStatusCode.Created, await allowed.Content.ReadAsStringAsync());
    }

    [Fact(Timeout = Timeout)]
    public async Task Abort_SameVersionOtherVariables_KeepsProductionServing_AndTheAlreadyRunningAnswerHidesSecrets()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary, replicas: 1));
        var first = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", Set: new Dictionary<string, string> { ["COLOR"] = "blue", ["DB"] = "s3cret" }, Secret: ["DB"]));
        first.StatusCode.Should().Be(HttpStatusCode.Created);
        await h.WaitForPhaseAsync("shop-default-1", RolloutPhase.Succeeded);

        // The same version and variables, with a right or a wrong secret value: the same answer either way.
        foreach (var guess in new[] { "s3cret", "wrong" })
        {
            using var again = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", Set: new Dictionary<string, string> { ["COLOR"] = "blue", ["DB"] = guess }, Secret: ["DB"]));
            var problem = await ProblemAsync(again, HttpStatusCode.Conflict);
            problem.GetProperty("code").GetString().Should().Be("already-running");
            problem.GetProperty("detail").GetString().Should().Contain("secret values are not compared");
        }

        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        var green = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", Set: new Dictionary<string, string> { ["COLOR"] = "green", ["DB"] = "s3cret" }, Secret: ["DB"]));
        green.StatusCode.Should().Be(HttpStatusCode.Created, await green.Content.ReadAsStringAsync());
        var canary = await h.WaitAsync("shop-default-2", v => v.Rollout.Phase == RolloutPhase.Paused && v.Instances.Count(i => i.Phase == Core.Runtime.InstancePhase.Ready) == 2);
        canary.Instances.Select(i => i.SetKey).Should().BeEquivalentTo(["v1", canary.Rollout.NewKey], "the new configuration runs beside the stable set, not in its place");

        await h.CommandAsync("abort", new CommandRequest("wrong colour"));
        var aborted = await h.WaitAsync("shop-default-2", v => v.Rollout.Phase == RolloutPhase.Aborted && v.Instances.Count == 1);
        aborted.Instances.Single().SetKey.Should().Be("v1");
        aborted.Instances.Single().Phase.Should().Be(Core.Runtime.InstancePhase.Ready);
        var environ = await File.ReadAllTextAsync($"/proc/{aborted.Instances.Single().ProcessId}/environ");
        environ.Split('\0').Should().Contain("COLOR=blue", "the stable set is the one that ran before");
        await load.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty("production served throughout");

        // A rollback still finds what runs.
        using var rollback = await PostAsync(h, "/api/v1/services/shop/rollback", new RollbackRequest());
        (await ProblemAsync(rollback, HttpStatusCode.Conflict)).GetProperty("detail").GetString().Should().Be("shop in default has had only one release (v1)");
    }

    [Fact(Timeout = Timeout)]
    public async Task Rollback_OnlyToAReleaseThatRanAsStableThere_WithItsVariablesFromThere()
    {
        var productionPort = FreePort.Next();
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, productionPort).Replace("gate: release", string.Empty, StringComparison.Ordinal));
        async Task DeployAsync(string version, string environment, string color, int number)
        {
            using var created = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", version, environment, new Dictionary<string, string> { ["COLOR"] = color }));
            created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            var id = $"shop-{environment}-{number}";
            if (number > 1)
            {
                await h.WaitAsync(id, v => v.Rollout.Phase == RolloutPhase.Paused);
                await PostAsync(h, $"/api/v1/rollouts/{id}/promote", new CommandRequest(Full: true));
            }

            await h.WaitForPhaseAsync(id, RolloutPhase.Succeeded);
        }

        await DeployAsync("v1", "production", "prod-blue", 1);
        await DeployAsync("v1", "development", "dev-red", 1);
        await DeployAsync("v9", "development", "faulty", 2);
        await DeployAsync("v2", "production", "prod-green", 2);

        using (var elsewhere = await PostAsync(h, "/api/v1/services/shop/rollback", new RollbackRequest("production", "v9", "incident")))
        {
            var problem = await ProblemAsync(elsewhere, HttpStatusCode.Conflict);
            problem.GetProperty("code").GetString().Should().Be("not-a-rollback-target");
            problem.GetProperty("detail").GetString().Should().StartWith("shop v9 never ran as the stable release in production");
        }

        using var back = await PostAsync(h, "/api/v1/services/shop/rollback", new RollbackRequest("production", "v1", "incident"));
        back.StatusCode.Should().Be(HttpStatusCode.Created, await back.Content.ReadAsStringAsync());
        var done = await h.WaitForPhaseAsync("shop-production-3", RolloutPhase.Succeeded);
        done.Rollout.Release.Variables.Should().Equal([new KeyValuePair<string, string>("COLOR", "prod-blue")], "the variables it ran with in production, not development's");
    }

    [Fact(Timeout = Timeout)]
    public async Task SharedFrontDoor_TwoEnvironmentsOnOneListener_IsRefusedWithHowToFixIt()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary, replicas: 1, extra: """
            environments:
              development: {}
              production: {}
            """));
        await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", "development"));
        await h.WaitForPhaseAsync("shop-development-1", RolloutPhase.Succeeded);

        using var shared = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", "production"));
        var problem = await ProblemAsync(shared, HttpStatusCode.Conflict);
        problem.GetProperty("code").GetString().Should().Be("front-door-in-use");
        problem.GetProperty("detail").GetString().Should().Be($"{h.Listen} is the front door of shop in development, which runs v1: shop in production would share it. "
            + "Give production its own with environments.production.overrides.shop.listen in the manifest");
        (await h.Server.Store.ListAsync(new RolloutQuery("shop", "production"), default)).Should().BeEmpty();
    }

    [Fact(Timeout = Timeout)]
    public async Task Scopes_IncidentsGatesAndEvaluations_FollowTheCallersEnvironmentsAndRoles()
    {
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, FreePort.Next()));
        var devApprover = await TokenAsync(h, "dev-approver", ["approver"], ["development"]);
        var devDeployer = await TokenAsync(h, "dev-deployer", ["deployer"], ["development"]);
        var deployer = await TokenAsync(h, "deployer", ["deployer"], []);
        var ci = await TokenAsync(h, "build-bot", ["ci"], []);
        var emergency = await TokenAsync(h, "erin", ["emergency"], []);

        using (var opened = await PostAsync(h, "/api/v1/incidents", new OpenIncidentRequest("checkout down", "P0", "shop", "production")))
        {
            opened.StatusCode.Should().Be(HttpStatusCode.Created);
        }

        using (var resolve = await PostAsync(h, "/api/v1/incidents/INC-1/resolve", new CommandRequest("fixed"), devDeployer))
        {
            (await ProblemAsync(resolve, HttpStatusCode.Forbidden)).GetProperty("detail").GetString().Should().Be("dev-deployer may act on incidents only in development, not in production");
        }

        using (var open = await PostAsync(h, "/api/v1/incidents", new OpenIncidentRequest("x", "P3", "shop", "production"), devDeployer))
        {
            open.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        }

        using (var byEmergency = await PostAsync(h, "/api/v1/incidents", new OpenIncidentRequest("x", "P3", "shop", "development"), emergency))
        {
            byEmergency.StatusCode.Should().Be(HttpStatusCode.Forbidden, "the emergency role deploys in an emergency and does nothing else");
        }

        using (var overridden = await PostAsync(h, "/api/v1/gates/overrides", new GateOverrideRequest("shop", "v2", "trust me"), devApprover))
        {
            (await ProblemAsync(overridden, HttpStatusCode.Forbidden)).GetProperty("detail").GetString().Should().Be("dev-approver may act as approver only in development, not in production");
        }

        // The subject of a gate cannot grade itself: evaluations come from the ci role, and a BLOCK stays until it posts again.
        var failing = new GateEvaluationRequest("shop", "v2", Tests: new Gantry.Core.Gates.Reports.TestSummary(10, 9, 1, 0, 0, 0, TimeSpan.FromSeconds(3), [], ["junit.xml"]));
        var clean = failing with { Tests = new Gantry.Core.Gates.Reports.TestSummary(10, 10, 0, 0, 0, 0, TimeSpan.FromSeconds(3), [], ["junit.xml"]) };
        (await PostAsync(h, "/api/v1/gates/evaluations", failing, ci)).StatusCode.Should().Be(HttpStatusCode.Created);
        using (var madeUp = await PostAsync(h, "/api/v1/gates/evaluations", clean, deployer))
        {
            (await ProblemAsync(madeUp, HttpStatusCode.Forbidden)).GetProperty("detail").GetString().Should().Be("POST /api/v1/gates/evaluations needs the ci role; deployer holds deployer");
        }

        using (var blocked = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v2", "production"), deployer))
        {
            (await ProblemAsync(blocked, HttpStatusCode.Conflict)).GetProperty("detail").GetString().Should().Contain("posted by build-bot) decided BLOCK");
        }

        using var passed = await PostAsync(h, "/api/v1/gates/evaluations", clean, ci);
        (await passed.Content.ReadFromJsonAsync<GateEvaluation>(GantryJson.Options))!.By.Should().Be("build-bot");
        using var deployed = await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v2", "production"), deployer);
        deployed.StatusCode.Should().Be(HttpStatusCode.Created, await deployed.Content.ReadAsStringAsync());
    }

    [Fact(Timeout = Timeout)]
    public async Task Queue_ADeployWhoseGateTurnedToBlockWhileItWaited_IsDroppedWithTheReasonAudited()
    {
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, FreePort.Next()));
        var ci = await TokenAsync(h, "build-bot", ["ci"], []);
        GateEvaluationRequest Evaluation(string version, int failed) =>
            new("shop", version, Tests: new Gantry.Core.Gates.Reports.TestSummary(10, 10 - failed, failed, 0, 0, 0, TimeSpan.FromSeconds(1), [], ["junit.xml"]));
        foreach (var version in new[] { "v1", "v2", "v3" })
        {
            (await PostAsync(h, "/api/v1/gates/evaluations", Evaluation(version, 0), ci)).StatusCode.Should().Be(HttpStatusCode.Created);
        }

        (await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v1", "production"))).StatusCode.Should().Be(HttpStatusCode.Created);
        await h.WaitForPhaseAsync("shop-production-1", RolloutPhase.Succeeded);
        (await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v2", "production"))).StatusCode.Should().Be(HttpStatusCode.Created);
        await h.WaitForPhaseAsync("shop-production-2", RolloutPhase.Paused);
        (await PostAsync(h, "/api/v1/rollouts", new DeployRequest("shop", "v3", "production", Queue: true))).StatusCode.Should().Be(HttpStatusCode.Accepted);

        (await PostAsync(h, "/api/v1/gates/evaluations", Evaluation("v3", 2), ci)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await PostAsync(h, "/api/v1/rollouts/shop-production-2/abort", new CommandRequest("not v2"))).StatusCode.Should().Be(HttpStatusCode.OK);
        await h.WaitForPhaseAsync("shop-production-2", RolloutPhase.Aborted);

        var removed = await EventuallyAsync(async () => (await ((IAuditStore)h.Server.Store).AuditAsync(new AuditQuery("shop/production", null, 100), default)).FirstOrDefault(e => e.Action == "queue.removed"));
        removed.Actor.Should().Be(DeployService.QueueActor);
        removed.Detail.Should().Contain("queued deploy #1 of shop v3 to production removed: production requires gate 'release' to decide DEPLOY for shop v3").And.Contain("posted by build-bot) decided BLOCK");
        (await h.Server.Store.QueuedAsync("shop", "production", default)).Should().BeEmpty();
        (await h.Server.Store.ListAsync(new RolloutQuery("shop", "production"), default)).Should().NotContain(r => r.Release.Version == "v3");
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("never happened");
    }
}
