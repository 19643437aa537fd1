using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Server.Rollouts;

namespace Gantry.Server.Tests;

/// <summary>The REST API's contract: problem+json for every error, the OpenAPI document, the event stream, logs.</summary>
[Collection(ServerTests.Name)]
public sealed class ApiTests
{
    private const string Canary = "canary: { steps: [{ setWeight: 50 }, { pause: {} }] }";

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        response.StatusCode.Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact(Timeout = 90_000)]
    public async Task RolloutEvents_ReadInPages_AreTheWholeHistoryInOrder()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));
        var first = await h.DeployAsync("v1");
        await h.WaitAsync(first.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Succeeded);
        var deploy = await h.DeployAsync("v2");
        await h.WaitAsync(deploy.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused);
        var all = (await h.Api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{deploy.Rollout.Id}/events", GantryJson.Options))!;
        all.Count.Should().BeGreaterThan(2);

        var paged = new List<StoredEvent>();
        var pages = 0;
        for (long after = 0; ; pages++)
        {
            var page = (await h.Api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{deploy.Rollout.Id}/events?after={after}&limit=2", GantryJson.Options))!;
            page.Count.Should().BeLessThanOrEqualTo(2);
            if (page.Count == 0)
            {
                break;
            }

            paged.AddRange(page);
            after = page[^1].Id;
        }

        paged.Should().Equal(all);
        pages.Should().Be((all.Count + 1) / 2);
        (await h.Api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{deploy.Rollout.Id}/events?limit=0", GantryJson.Options))!.Should().Equal(all.Take(1), "a limit is at least one");
        using var bad = await h.Api.GetAsync($"/api/v1/rollouts/{deploy.Rollout.Id}/events?after=yesterday");
        (await ProblemAsync(bad, HttpStatusCode.BadRequest)).GetProperty("detail").GetString().Should().Contain("after");
    }

    [Fact(Timeout = 90_000)]
    public async Task Services_EachEnvironmentCarriesItsNewestRolloutsSplitAndMessage()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));
        var never = (await h.Api.GetFromJsonAsync<List<ServiceView>>("/api/v1/services", GantryJson.Options))!.Single().Environments.Single();
        (never.LatestRollout, never.Message, never.Traffic).Should().Be((null, null, null), "nothing was deployed");

        var first = await h.DeployAsync("v1");
        await h.WaitAsync(first.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Succeeded);
        var deploy = await h.DeployAsync("v2");
        var paused = await h.WaitAsync(deploy.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused && v.Traffic.All(t => t.Ready > 0));
        var env = (await h.Api.GetFromJsonAsync<List<ServiceView>>("/api/v1/services", GantryJson.Options))!.Single().Environments.Single();
        env.LatestRollout.Should().Be(deploy.Rollout.Id);
        env.Message.Should().Be(paused.Rollout.Message);
        env.Traffic.Should().BeEquivalentTo(paused.Traffic, "the list shows the split the rollout's own view shows");
        env.Traffic!.Select(t => (t.Version, t.Weight)).Should().BeEquivalentTo([("v1", 50), ("v2", 50)]);

        await h.CommandAsync("abort", new CommandRequest("looking into it"));
        await h.WaitAsync(deploy.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Aborted);
        var aborted = (await h.Api.GetFromJsonAsync<List<ServiceView>>("/api/v1/services", GantryJson.Options))!.Single().Environments.Single();
        aborted.Message.Should().Contain("looking into it", "an aborted rollout says why in the list too");
        aborted.Traffic!.Should().ContainSingle().Which.Should().Match<TrafficView>(t => t.Version == "v1" && t.Weight == 100);
    }

    [Fact(Timeout = 60_000)]
    public async Task Api_BadRequests_AnswerProblemJsonAndChangeNothing()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));

        using (var malformed = await h.Api.PostAsync("/api/v1/rollouts", new StringContent("{\"service\": ", Encoding.UTF8, "application/json")))
        {
            (await ProblemAsync(malformed, HttpStatusCode.BadRequest)).GetProperty("title").GetString().Should().Be("Invalid request");
        }

        using (var unknownService = await h.Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("web", "1"), GantryJson.Options))
        {
            (await ProblemAsync(unknownService, HttpStatusCode.NotFound)).GetProperty("detail").GetString().Should().Be("there is no service 'web' in the manifest (services: shop)");
        }

        using (var badVersion = await h.Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", "../../etc"), GantryJson.Options))
        {
            (await ProblemAsync(badVersion, HttpStatusCode.BadRequest)).GetProperty("detail").GetString().Should().StartWith("version '../../etc' is not valid");
        }

        using (var badVariable = await h.Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", "1", Set: new Dictionary<string, string> { ["1X"] = "y" }), GantryJson.Options))
        {
            (await ProblemAsync(badVariable, HttpStatusCode.BadRequest)).GetProperty("detail").GetString().Should().StartWith("variable name '1X' is not valid");
        }

        using (var unknownRollout = await h.Api.PostAsync("/api/v1/rollouts/nope/promote", null))
        {
            (await ProblemAsync(unknownRollout, HttpStatusCode.NotFound)).GetProperty("detail").GetString().Should().Be("there is no rollout 'nope'");
        }

        using (var unknownPath = await h.Api.GetAsync("/api/v1/nothing-here"))
        {
            await ProblemAsync(unknownPath, HttpStatusCode.NotFound);
        }

        (await h.Server.Store.ListAsync(new RolloutQuery(), default)).Should().BeEmpty("no bad request stored anything");
    }

    [Fact(Timeout = 60_000)]
    public async Task Api_OpenApiDocument_DescribesTheEndpoints()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));
        using var doc = JsonDocument.Parse(await h.Api.GetStringAsync("/api/v1/openapi.json"));
        doc.RootElement.GetProperty("openapi").GetString().Should().StartWith("3.");
        var paths = doc.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        paths.Should().Contain(["/api/v1/rollouts", "/api/v1/rollouts/{id}", "/api/v1/rollouts/{id}/promote", "/api/v1/services/{service}/rollback", "/api/v1/events"]);
    }

    [Fact(Timeout = 90_000)]
    public async Task Events_Stream_ReplaysThenFollowsAndResumesAfterLastEventId()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));
        var first = await h.DeployAsync("v1");
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded);

        using var stream = await h.Api.GetAsync("/api/v1/events", HttpCompletionOption.ResponseHeadersRead);
        stream.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        var seen = new List<StoredEvent>();
        async Task ReadUntilAsync(string type)
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    seen.Add(JsonSerializer.Deserialize<StoredEvent>(line[6..], GantryJson.Options)!);
                    if (seen[^1].Type == type)
                    {
                        return;
                    }
                }
            }
        }

        await ReadUntilAsync("Succeeded");
        seen.Select(e => e.Type).Should().Equal("Created", "Succeeded");

        await h.DeployAsync("v2");
        await ReadUntilAsync("Paused");
        seen.Select(e => e.Type).Should().Equal("Created", "Succeeded", "Created", "TrafficShifted", "Paused");
        seen.Select(e => e.Id).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();

        using var resume = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events");
        resume.Headers.Add("Last-Event-ID", seen[2].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var resumed = await h.Api.SendAsync(resume, HttpCompletionOption.ResponseHeadersRead);
        using var again = new StreamReader(await resumed.Content.ReadAsStreamAsync());
        string? firstId = null;
        while (firstId is null && await again.ReadLineAsync() is { } line)
        {
            firstId = line.StartsWith("id: ", StringComparison.Ordinal) ? line[4..] : null;
        }

        firstId.Should().Be(seen[3].Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "the stream resumes after the last event the client saw");

        // after=-1: nothing stored is sent again, only what comes next (the dashboard's first connect).
        using var fresh = await h.Api.GetAsync("/api/v1/events?after=-1", HttpCompletionOption.ResponseHeadersRead);
        using var next = new StreamReader(await fresh.Content.ReadAsStreamAsync());
        (await h.Api.PostAsJsonAsync($"/api/v1/rollouts/{seen[2].RolloutId}/promote", new CommandRequest(), GantryJson.Options)).EnsureSuccessStatusCode();
        StoredEvent? after = null;
        while (after is null && await next.ReadLineAsync() is { } line)
        {
            after = line.StartsWith("data: ", StringComparison.Ordinal) ? JsonSerializer.Deserialize<StoredEvent>(line[6..], GantryJson.Options) : null;
        }

        after!.Id.Should().BeGreaterThan(seen.Max(e => e.Id), "only events committed after the connect are sent");
        after.Type.Should().Be("Promoted");
    }

    [Fact(Timeout = 60_000)]
    public async Task Logs_RunningService_ReturnsEachInstancesOutput()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary, replicas: 1));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        var logs = await h.Api.GetFromJsonAsync<List<InstanceLogs>>("/api/v1/services/shop/logs?lines=50", GantryJson.Options);
        logs.Should().ContainSingle().Which.Should().Match<InstanceLogs>(l => l.Version == "v1" && l.Lines.Any(x => x.StartsWith("shop v1 listening on http://127.0.0.1:", StringComparison.Ordinal)));
        Directory.GetFiles(Path.Combine(h.Folder, "data", "logs")).Should().ContainSingle().Which.Should().EndWith("shop-default-v1-0.log");

        (await h.Api.GetStringAsync("/health/ready")).Should().Be("ready\n");
        await using (var load = new Gantry.Testing.SteadyLoad(h.Front))
        {
            await load.WaitForRequestsAsync(20, TimeSpan.FromSeconds(20));
        }

        var metrics = await h.Api.GetStringAsync("/metrics");
        metrics.Should().Contain("gantry_rollout_info{service=\"shop\",environment=\"default\",rollout=\"shop-default-1\",phase=\"Succeeded\",version=\"v1\"} 1");
        metrics.Should().MatchRegex(@"gantry_proxy_requests_total\{route=""shop\.default"",group=""v1"".*code=""2xx""\} \d+");

        // The store keeps a record of each instance as last observed.
        var records = await h.Api.GetFromJsonAsync<List<InstanceRecord>>("/api/v1/instances?service=shop", GantryJson.Options);
        records.Should().ContainSingle().Which.Should().Match<InstanceRecord>(r => r.Id == "shop-default-v1-0" && r.Phase == "Ready" && r.ProcessId > 0);
    }
}
