using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using FluentAssertions;
using Gantry.Api;
using Gantry.Core.Access;
using Gantry.Core.Audit;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Server.Access;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Tests.Access;

/// <summary>
/// Every endpoint of the API, called with no token, a malformed one, an unknown one, an expired one, a revoked
/// one and a token of each role; every answer checked against the intended matrix below. An endpoint that is
/// not in the matrix fails the test, so none can be added without deciding who may call it.
/// </summary>
public sealed class AuthorizationMatrixTests(ITestOutputHelper log)
{
    private const string Public = "public";

    /// <summary>The intended matrix: the role each endpoint requires ("public": none), and whether it acts in an environment.</summary>
    private static readonly Dictionary<string, (string Role, bool Scoped)> Matrix = new(StringComparer.Ordinal)
    {
        ["GET /health"] = (Public, false),
        ["GET /health/ready"] = (Public, false),
        ["GET /metrics"] = (Public, false),
        ["GET /api/{documentName}/openapi.json"] = (Public, false),
        ["GET /"] = (Public, false),
        ["GET /ui/{**path}"] = (Public, false),
        ["GET /api/v1/whoami"] = ("viewer", false),
        ["GET /api/v1/cluster"] = ("viewer", false),
        ["GET /api/v1/slos"] = ("viewer", false),
        ["GET /api/v1/services"] = ("viewer", false),
        ["GET /api/v1/services/{service}/releases"] = ("viewer", false),
        ["GET /api/v1/services/{service}/rollout"] = ("viewer", false),
        ["GET /api/v1/services/{service}/logs"] = ("viewer", false),
        ["GET /api/v1/rollouts"] = ("viewer", false),
        ["GET /api/v1/rollouts/{id}"] = ("viewer", false),
        ["GET /api/v1/rollouts/{id}/analysis"] = ("viewer", false),
        ["GET /api/v1/rollouts/{id}/checklist"] = ("viewer", false),
        ["GET /api/v1/rollouts/{id}/events"] = ("viewer", false),
        ["GET /api/v1/rollouts/{id}/approval"] = ("viewer", false),
        ["GET /api/v1/approvals"] = ("viewer", false),
        ["GET /api/v1/instances"] = ("viewer", false),
        ["GET /api/v1/queue"] = ("viewer", false),
        ["GET /api/v1/events"] = ("viewer", false),
        ["GET /api/v1/audit"] = ("viewer", false),
        ["GET /api/v1/audit/verify"] = ("viewer", false),
        ["GET /api/v1/audit/export"] = ("viewer", false),
        ["GET /api/v1/backup"] = ("admin", false),
        ["GET /api/v1/gates/evaluations"] = ("viewer", false),
        ["POST /api/v1/rollouts"] = ("deployer", true),
        ["POST /api/v1/rollouts/{id}/promote"] = ("deployer", true),
        ["POST /api/v1/rollouts/{id}/abort"] = ("deployer", true),
        ["POST /api/v1/rollouts/{id}/pause"] = ("deployer", true),
        ["POST /api/v1/rollouts/{id}/resume"] = ("deployer", true),
        ["POST /api/v1/rollouts/{id}/retry"] = ("deployer", true),
        ["PUT /api/v1/services/{service}/maintenance"] = ("deployer", true),
        ["DELETE /api/v1/services/{service}/maintenance"] = ("deployer", true),
        ["PUT /api/v1/services/{service}/pause"] = ("deployer", true),
        ["DELETE /api/v1/services/{service}/pause"] = ("deployer", true),
        ["POST /api/v1/services/{service}/promote"] = ("deployer", true),
        ["POST /api/v1/services/{service}/abort"] = ("deployer", true),
        ["POST /api/v1/services/{service}/pause"] = ("deployer", true),
        ["POST /api/v1/services/{service}/resume"] = ("deployer", true),
        ["POST /api/v1/services/{service}/retry"] = ("deployer", true),
        ["POST /api/v1/services/{service}/rollback"] = ("deployer", true),
        ["POST /api/v1/gates/evaluations"] = ("ci", false),
        ["POST /api/v1/alerts"] = ("alerting", false),
        ["POST /api/v1/gates/overrides"] = ("approver", false),
        ["POST /api/v1/rollouts/{id}/approve"] = ("approver", true),
        ["POST /api/v1/rollouts/{id}/reject"] = ("approver", true),
        ["POST /api/v1/rollouts/{id}/checklist/{item}/signoff"] = ("approver", true),
        ["POST /api/v1/environments/{environment}/freeze"] = ("approver", true),
        ["DELETE /api/v1/environments/{environment}/freeze"] = ("approver", true),
        ["GET /api/v1/incidents"] = ("viewer", false),
        ["GET /api/v1/incidents/{id}"] = ("viewer", false),
        ["GET /api/v1/incidents/{id}/postmortem"] = ("viewer", false),
        ["GET /api/v1/dora"] = ("viewer", false),
        ["GET /api/v1/notifications"] = ("viewer", false),
        ["POST /api/v1/incidents"] = ("responder", false),
        ["POST /api/v1/incidents/{id}/acknowledge"] = ("responder", false),
        ["POST /api/v1/incidents/{id}/mitigate"] = ("responder", false),
        ["POST /api/v1/incidents/{id}/resolve"] = ("responder", false),
        ["POST /api/v1/tokens"] = ("admin", false),
        ["DELETE /api/v1/queue/{id}"] = ("deployer", false),
        ["GET /api/v1/tokens"] = ("admin", false),
        ["DELETE /api/v1/tokens/{id}"] = ("admin", false),
    };

    internal static string Manifest(Endpoint listen) => ServerHarness.ManifestText(listen, "rolling: { maxSurge: 1, maxUnavailable: 0 }", replicas: 1, extra: $$"""
        environments:
          staging: {}
          production:
            approvals: { required: 1, from: [sre] }
            {{Gantry.Testing.SampleService.OwnListen()}}
        """);

    [Fact(Timeout = 240_000)]
    public async Task Api_EveryEndpointWithEveryKindOfCaller_AnswersAsTheMatrixSays()
    {
        await using var h = await ServerHarness.StartAsync(Manifest, access: new AccessOptions(FailureLimit: 100_000, GlobalFailureLimit: 1_000_000));
        var routes = h.Server.Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => $"{m} /{e.RoutePattern.RawText!.TrimStart('/')}"))
            .ToHashSet(StringComparer.Ordinal);
        routes.Should().BeEquivalentTo(Matrix.Keys, "every endpoint has an intended row in the matrix, and every row an endpoint");

        (await h.DeployAsync("v1")).Rollout.Id.Should().Be("shop-staging-1");
        await h.WaitAsync("shop-staging-1", v => v.Rollout.Phase == RolloutPhase.Succeeded);

        var store = h.Server.Store;
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var role in RoleNames.All)
        {
            tokens[role] = await CreateAsync(h, $"{role}-user", [role], []);
        }

        tokens["deployer@staging"] = await CreateAsync(h, "staging-deployer", ["deployer"], ["staging"]);
        tokens["approver@staging"] = await CreateAsync(h, "approver-staging", ["approver"], ["staging"]);
        var expired = TokenSecret.New();
        await store.CreateTokenAsync(new ApiToken(expired.Id, "old", [Role.Admin], [], [], TokenSecret.Hash(expired.Text), DateTimeOffset.UtcNow.AddDays(-10), "test", DateTimeOffset.UtcNow.AddMinutes(-1)), new AuditContext("test"), default);
        var revoked = await CreateAsync(h, "gone", ["admin"], []);
        await store.RevokeTokenAsync(TokenSecret.IdOf(revoked)!, DateTimeOffset.UtcNow, new AuditContext("test"), default);
        var throwaway = TokenSecret.IdOf(await CreateAsync(h, "throwaway", ["viewer"], []))!;

        var unauthenticated = new (string Name, string? Header)[]
        {
            ("no token", null),
            ("not bearer", "Basic dXNlcjpwYXNz"),
            ("malformed", "Bearer nonsense"),
            ("unknown", $"Bearer {TokenSecret.New().Text}"),
            ("wrong secret", $"Bearer {tokens["admin"][..^4]}AAAA"),
            ("expired", $"Bearer {expired.Text}"),
            ("revoked", $"Bearer {revoked}"),
        };

        using var client = new HttpClient { BaseAddress = h.Server.Address, Timeout = TimeSpan.FromSeconds(30) };
        var checkedCalls = 0;
        foreach (var (route, (role, _)) in Matrix)
        {
            foreach (var (name, header) in unauthenticated)
            {
                var status = await CallAsync(client, route, header, throwaway);
                if (role == Public)
                {
                    status.Should().NotBe(HttpStatusCode.Unauthorized, $"{route} is public ({name})");
                }
                else
                {
                    status.Should().Be(HttpStatusCode.Unauthorized, $"{route} with {name}");
                }

                checkedCalls++;
            }

            foreach (var held in RoleNames.All)
            {
                // "responder": whoever acts on incidents: a deployer or an approver (the emergency role deploys, nothing else).
                var allowed = role == Public || role == "viewer" || held == "admin" || held == role || (role == "responder" && held is "deployer" or "approver");
                var status = await CallAsync(client, route, $"Bearer {tokens[held]}", throwaway);
                if (allowed)
                {
                    status.Should().NotBe(HttpStatusCode.Unauthorized).And.NotBe(HttpStatusCode.Forbidden, $"{route} with a {held} token");
                }
                else
                {
                    status.Should().Be(HttpStatusCode.Forbidden, $"{route} with a {held} token");
                }

                checkedCalls++;
            }
        }

        // Environment scopes: a deployer of staging acts in staging only.
        var scoped = $"Bearer {tokens["deployer@staging"]}";
        (await SendAsync(client, HttpMethod.Post, "/api/v1/rollouts", scoped, """{"service":"shop","version":"v9","environment":"production"}""")).Should().Be(HttpStatusCode.Forbidden);
        (await SendAsync(client, HttpMethod.Post, "/api/v1/services/shop/abort?environment=production", scoped, "{}")).Should().Be(HttpStatusCode.Forbidden);
        (await SendAsync(client, HttpMethod.Post, "/api/v1/services/shop/rollback", scoped, """{"environment":"production"}""")).Should().Be(HttpStatusCode.Forbidden);
        (await SendAsync(client, HttpMethod.Post, "/api/v1/services/shop/abort?environment=staging", scoped, "{}")).Should().NotBe(HttpStatusCode.Forbidden, "allowed in staging").And.NotBe(HttpStatusCode.Unauthorized);
        (await SendAsync(client, HttpMethod.Post, "/api/v1/rollouts/shop-staging-1/abort", scoped, "{}")).Should().Be(HttpStatusCode.Conflict, "allowed in staging: refused only because that rollout has ended");
        (await SendAsync(client, HttpMethod.Post, "/api/v1/environments/staging/freeze", scoped, """{"reason":"x"}""")).Should().Be(HttpStatusCode.Forbidden, "freezing needs the approver role");

        // Every endpoint that acts in an environment checks the scope there: a production rollout awaiting approval, and one queued behind it.
        var admin = $"Bearer {tokens["admin"]}";
        (await SendAsync(client, HttpMethod.Post, "/api/v1/rollouts", admin, """{"service":"shop","version":"v20","environment":"production"}""")).Should().Be(HttpStatusCode.Created);
        (await SendAsync(client, HttpMethod.Post, "/api/v1/rollouts", admin, """{"service":"shop","version":"v21","environment":"production","queue":true}""")).Should().Be(HttpStatusCode.Accepted);
        var queuedId = (await h.Server.Store.QueuedAsync("shop", "production", default)).Single().Id;
        (await SendAsync(client, HttpMethod.Post, "/api/v1/incidents", admin, """{"title":"prod down","severity":"P1","service":"shop","environment":"production"}""")).Should().Be(HttpStatusCode.Created);
        var stagingApprover = $"Bearer {tokens["approver@staging"]}";
        var incident = (await ((Gantry.Core.Incidents.IIncidentStore)h.Server.Store).IncidentsAsync(new Gantry.Core.Incidents.IncidentQuery("shop", "production", false, null, 10), default)).Single().Key;
        var outOfScope = new (HttpMethod Method, string Path, string Token, string? Body)[]
        {
            (HttpMethod.Post, "/api/v1/rollouts/shop-production-1/approve", stagingApprover, "{}"),
            (HttpMethod.Post, "/api/v1/rollouts/shop-production-1/reject", stagingApprover, """{"reason":"no"}"""),
            (HttpMethod.Post, "/api/v1/rollouts/shop-production-1/checklist/qa/signoff", stagingApprover, "{}"),
            (HttpMethod.Post, "/api/v1/environments/production/freeze", stagingApprover, """{"reason":"x"}"""),
            (HttpMethod.Delete, "/api/v1/environments/production/freeze", stagingApprover, null),
            (HttpMethod.Post, "/api/v1/rollouts/shop-production-1/abort", scoped, "{}"),
            (HttpMethod.Post, "/api/v1/rollouts/shop-production-1/promote", scoped, "{}"),
            (HttpMethod.Post, "/api/v1/services/shop/pause?environment=production", scoped, "{}"),
            (HttpMethod.Delete, $"/api/v1/queue/{queuedId}", scoped, null),
            (HttpMethod.Post, "/api/v1/incidents", scoped, """{"title":"x","severity":"P3","service":"shop","environment":"production"}"""),
            (HttpMethod.Post, $"/api/v1/incidents/{incident}/acknowledge", scoped, "{}"),
            (HttpMethod.Post, $"/api/v1/incidents/{incident}/resolve", stagingApprover, "{}"),
        };
        foreach (var (method, path, token, body) in outOfScope)
        {
            (await SendAsync(client, method, path, token, body)).Should().Be(HttpStatusCode.Forbidden, $"{method} {path} is in production, outside the token's staging scope");
        }

        (await h.Server.Store.QueuedAsync("shop", "production", default)).Should().ContainSingle("nothing out of scope changed anything");

        // An emergency deploy needs the emergency role; the deployer role is not enough, and the reverse holds too.
        const string Emergency = """{"service":"shop","version":"v8","environment":"staging","emergency":true,"reason":"INC-1"}""";
        (await SendAsync(client, HttpMethod.Post, "/api/v1/rollouts", $"Bearer {tokens["deployer"]}", Emergency)).Should().Be(HttpStatusCode.Forbidden);
        (await SendAsync(client, HttpMethod.Post, "/api/v1/rollouts", $"Bearer {tokens["emergency"]}", """{"service":"shop","version":"v8","environment":"staging"}""")).Should().Be(HttpStatusCode.Forbidden);
        (await SendAsync(client, HttpMethod.Post, "/api/v1/rollouts", $"Bearer {tokens["emergency"]}", Emergency)).Should().NotBe(HttpStatusCode.Forbidden).And.NotBe(HttpStatusCode.Unauthorized);

        // Refusals are problem+json, and a 401 names the scheme.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/services"))
        using (var response = await client.SendAsync(request))
        {
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer realm=\"gantry\"");
            (await response.Content.ReadAsStringAsync()).Should().Contain("no token");
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/tokens"))
        {
            request.Headers.Authorization = AuthenticationHeaderValue.Parse($"Bearer {tokens["viewer"]}");
            using var response = await client.SendAsync(request);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            (await response.Content.ReadAsStringAsync()).Should().Contain("GET /api/v1/tokens needs the admin role; viewer-user holds viewer");
        }

        // Failed authentications are in the audit trail, from where they came, and no secret is anywhere in it.
        var audit = await store.AsAudit().AuditAsync(new AuditQuery("api", null, 100_000), default);
        // Hundreds of failures from one address make one record per window, not one each.
        audit.Where(e => e.Action == "auth.failed").Should().HaveCountGreaterThan(0).And.HaveCountLessThan(10);
        audit.Should().OnlyContain(e => e.Source == "127.0.0.1");
        var everything = string.Join("\n", (await store.AsAudit().AuditAsync(new AuditQuery(null, null, 100_000), default)).Select(e => e.ToString()));
        foreach (var secret in tokens.Values.Append(expired.Text).Append(revoked))
        {
            everything.Should().NotContain(secret[7..], "a token's secret never reaches the audit trail");
        }

        log.WriteLine($"{checkedCalls} calls checked against the matrix ({Matrix.Count} endpoints)");
    }

    private static async Task<string> CreateAsync(ServerHarness h, string identity, string[] roles, string[] environments)
    {
        var created = await h.Server.Tokens.CreateAsync(new TokenRequest(identity, roles, identity.StartsWith("approver", StringComparison.Ordinal) ? ["sre"] : [], environments), new AuditContext("test"), default);
        created.Problem.Should().BeNull();
        return created.Value!.Secret;
    }

    /// <summary>Calls a route of the matrix with placeholders filled and a plausible body; the status only (a stream is closed once its headers came).</summary>
    private static Task<HttpStatusCode> CallAsync(HttpClient client, string route, string? authorization, string throwawayToken)
    {
        var space = route.IndexOf(' ', StringComparison.Ordinal);
        var method = new HttpMethod(route[..space]);
        var path = route[(space + 1)..]
            .Replace("{documentName}", "v1", StringComparison.Ordinal)
            .Replace("/tokens/{id}", $"/tokens/{throwawayToken}", StringComparison.Ordinal)
            .Replace("/incidents/{id}", "/incidents/INC-1", StringComparison.Ordinal)
            .Replace("{id}", "shop-staging-1", StringComparison.Ordinal)
            .Replace("{service}", "shop", StringComparison.Ordinal)
            .Replace("{environment}", "staging", StringComparison.Ordinal)
            .Replace("{item}", "ops-signoff", StringComparison.Ordinal);
        if (path.StartsWith("/api/v1/services/shop/", StringComparison.Ordinal) && (method == HttpMethod.Post || method == HttpMethod.Delete) && !path.EndsWith("/rollback", StringComparison.Ordinal))
        {
            path += "?environment=staging";
        }

        var body = method == HttpMethod.Put ? """{"environment":"staging","message":"matrix"}""" : method == HttpMethod.Post ? path switch
        {
            "/api/v1/rollouts" => """{"service":"shop","version":"v7","environment":"staging"}""",
            "/api/v1/tokens" => """{"identity":"made-by-matrix","roles":["viewer"]}""",
            "/api/v1/incidents" => """{"title":"matrix","severity":"P3"}""",
            "/api/v1/gates/evaluations" => """{"service":"shop","version":"v7"}""",
            "/api/v1/gates/overrides" => """{"service":"shop","version":"v7","reason":"matrix"}""",
            "/api/v1/environments/staging/freeze" => """{"reason":"matrix","for":"1s"}""",
            "/api/v1/services/shop/rollback" => """{"environment":"staging"}""",
            _ => "{}",
        } : null;
        return SendAsync(client, method, path, authorization, body);
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, HttpMethod method, string path, string? authorization, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return response.StatusCode;
    }
}

internal static class StoreViews
{
    public static IAuditStore AsAudit(this ITokenStore store) => (IAuditStore)store;
}
