using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Testing;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Tests.Api;

/// <summary>The API's contract as a client sees it: the OpenAPI document describes every endpoint with its schemas, and every problem carries a catalog code.</summary>
[Collection(ServerTests.Name)]
public sealed class ApiContractTests
{
    private const string Canary = "canary: { steps: [{ setWeight: 50 }, { pause: {} }] }";

    [Fact(Timeout = 60_000)]
    public async Task OpenApi_Operations_AreTheServersEndpointsEachWithItsSchemas()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));
        using var doc = JsonDocument.Parse(await h.Api.GetStringAsync("/api/v1/openapi.json"));
        var operations = doc.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (Key: $"{op.Name.ToUpperInvariant()} {path.Name}", Operation: op.Value)))
            .ToDictionary(o => o.Key, o => o.Operation);
        var endpoints = h.Server.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith(ApiRoutes.Base + "/", StringComparison.Ordinal) && !e.RoutePattern.RawText.Contains("openapi", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (Key: $"{m} {e.RoutePattern.RawText}", Endpoint: e)))
            .ToDictionary(e => e.Key, e => e.Endpoint);
        endpoints.Count.Should().BeGreaterThan(45);
        operations.Keys.Should().BeEquivalentTo(endpoints.Keys, "the document describes exactly the endpoints the server answers");

        foreach (var (key, endpoint) in endpoints)
        {
            var operation = operations[key];
            var success = operation.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2')).ToList();
            success.Should().NotBeEmpty($"{key} describes its answer");
            success.Select(r => HasSchemas(r.Value)).Should().AllSatisfy(has => has.Should().BeTrue($"{key} gives the schema of its answer"));
            if (endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is { RequestType: not null })
            {
                operation.TryGetProperty("requestBody", out var body).Should().BeTrue($"{key} takes a body");
                body.GetProperty("content").GetProperty("application/json").TryGetProperty("schema", out _).Should().BeTrue($"{key} gives the schema of its body");
            }

            var refusals = operation.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('4')).ToList();
            if (refusals.Count > 0)
            {
                refusals.Select(r => r.Value.GetProperty("content").TryGetProperty("application/problem+json", out var problem)).Should().AllSatisfy(has => has.Should().BeTrue($"{key} refuses with problem+json"));
            }
        }
    }

    private static bool HasSchemas(JsonElement response) =>
        response.TryGetProperty("content", out var content) && content.EnumerateObject().All(c => c.Value.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object);

    [Fact(Timeout = 90_000)]
    public async Task Problems_EveryRefusal_CarriesItsCatalogCodeStatusAndTitle()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, Canary));
        using var anonymous = new HttpClient { BaseAddress = h.Server.Address };
        var viewer = await h.Server.Tokens.CreateAsync(new TokenRequest("vera", ["viewer"]), new Core.Audit.AuditContext("test"), default);
        using var viewing = new HttpClient { BaseAddress = h.Server.Address };
        viewing.DefaultRequestHeaders.Authorization = new("Bearer", viewer.Value!.Secret);
        var json = (string text) => new StringContent(text, Encoding.UTF8, "application/json");

        var cases = new (string Code, Func<Task<HttpResponseMessage>> Send)[]
        {
            ("invalid-request", () => h.Api.PostAsync("/api/v1/rollouts", json("{\"service\": "))),
            ("invalid-request", () => h.Api.GetAsync("/api/v1/dora?since=0s")),
            ("invalid-request", () => h.Api.PostAsync("/api/v1/environments/default/freeze", json("{}"))),
            ("unknown-service", () => h.Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("web", "1"), GantryJson.Options)),
            ("unknown-environment", () => h.Api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", "1", "mars"), GantryJson.Options)),
            ("unknown-rollout", () => h.Api.GetAsync("/api/v1/rollouts/nope")),
            ("unknown-rollout", () => h.Api.PostAsync("/api/v1/rollouts/nope/promote", null)),
            ("no-rollout", () => h.Api.PostAsync("/api/v1/services/shop/abort", null)),
            ("nothing-to-roll-back", () => h.Api.PostAsync("/api/v1/services/shop/rollback", null)),
            ("not-queued", () => h.Api.DeleteAsync("/api/v1/queue/42")),
            ("not-frozen", () => h.Api.DeleteAsync("/api/v1/environments/default/freeze")),
            ("unknown-incident", () => h.Api.GetAsync("/api/v1/incidents/INC-9")),
            ("unknown-token", () => h.Api.DeleteAsync("/api/v1/tokens/nope")),
            ("unknown-gate", () => h.Api.PostAsJsonAsync("/api/v1/gates/overrides", new GateOverrideRequest("shop", "1", "why"), GantryJson.Options)),
            ("not-authenticated", () => anonymous.GetAsync("/api/v1/rollouts")),
            ("forbidden", () => viewing.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", "1"), GantryJson.Options)),
            ("no-such-endpoint", () => h.Api.GetAsync("/api/v1/nothing-here")),
            ("method-not-allowed", () => h.Api.DeleteAsync("/api/v1/services")),
            ("unsupported-media-type", () => h.Api.PostAsync("/api/v1/rollouts", new StringContent("service=shop", Encoding.UTF8, "text/plain"))),
        };
        foreach (var (expected, send) in cases)
        {
            using var response = await send();
            response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json", $"{response.RequestMessage} answers a problem");
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            var code = problem.GetProperty("code").GetString();
            code.Should().Be(expected, $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri!.PathAndQuery}: {problem}");
            var entry = ProblemCodes.Find(code)!;
            ((int)response.StatusCode).Should().Be(entry.Status);
            problem.GetProperty("title").GetString().Should().Be(entry.Title);
            problem.GetProperty("detail").GetString().Should().NotBeNullOrWhiteSpace();
        }

        (await h.Server.Store.ListAsync(new RolloutQuery(), default)).Should().BeEmpty("no refused call changed anything");
    }

    [Fact(Timeout = 10_000)]
    public void Catalog_CodesAreUniqueDocumentedAndTheOnlyWayToAProblem()
    {
        ProblemCodes.All.Select(c => c.Code).Should().OnlyHaveUniqueItems();
        ProblemCodes.All.Should().OnlyContain(c => System.Text.RegularExpressions.Regex.IsMatch(c.Code, "^[a-z]+(-[a-z]+)*$"));
        var root = RepoPaths.Root;
        var table = File.ReadAllLines(Path.Combine(root, "docs", "api-problems.md")).Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToList();
        table.Should().Equal(ProblemCodes.All.Select(c => $"| `{c.Code}` | {c.Status} | {c.Title} | {c.Meaning} |"), "docs/api-problems.md lists the catalog, in order");

        // Nothing in the server answers a problem but through ProblemResults (which always adds the code).
        var writers = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("Results.Problem(", StringComparison.Ordinal))
            .Select(f => Path.GetFileName(f));
        writers.Should().Equal("ProblemResults.cs");
    }
}
