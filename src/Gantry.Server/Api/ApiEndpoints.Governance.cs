using Gantry.Core.Access;
using Gantry.Server.Access;
using Gantry.Server.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gantry.Server.Api;

/// <summary>Tokens, approvals, freezes, the audit trail and gates.</summary>
public static partial class ApiEndpoints
{
    private static void MapGovernance(RouteGroupBuilder api, RolloutService rollouts, Gates.GateService gates, Core.Gates.IGateStore gateStore, Core.Audit.IAuditStore audit, TokenService tokens)
    {
        var viewer = new Requires(Role.Viewer);
        var approver = new Requires(Role.Approver);
        var admin = new Requires(Role.Admin);
        api.MapGet("/whoami", (HttpContext http) => Results.Ok(AccessControl.CallerOf(http))).WithName("WhoAmI").WithMetadata(viewer);

        api.MapPost("/tokens", async (TokenRequest request, HttpContext http, CancellationToken ct) =>
        {
            var result = await tokens.CreateAsync(request, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? Problem(p) : Results.Created($"/api/v1/tokens/{result.Value!.Token.Id}", result.Value);
        }).WithName("CreateToken").WithMetadata(admin);

        api.MapGet("/tokens", async (CancellationToken ct) => Results.Ok(await tokens.ListAsync(ct))).WithName("ListTokens").WithMetadata(admin);

        api.MapDelete("/tokens/{id}", async (string id, HttpContext http, CancellationToken ct) =>
        {
            var result = await tokens.RevokeAsync(id, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);
        }).WithName("RevokeToken").WithMetadata(admin);

        api.MapGet("/approvals", async (HttpContext http, CancellationToken ct) =>
            Results.Ok(await rollouts.AwaitingApprovalAsync(AccessControl.CallerOf(http), ct))).WithName("ListAwaitingApproval").WithMetadata(viewer);

        api.MapGet("/rollouts/{id}/approval", async (string id, HttpContext http, CancellationToken ct) =>
        {
            var result = await rollouts.ApprovalAsync(id, AccessControl.CallerOf(http), ct);
            return result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);
        }).WithName("GetRolloutApproval").WithMetadata(viewer);

        foreach (var (name, decision) in new[] { ("approve", Core.Approvals.ApprovalDecision.Approved), ("reject", Core.Approvals.ApprovalDecision.Rejected) })
        {
            api.MapPost($"/rollouts/{{id}}/{name}", async (string id, HttpContext http, CancellationToken ct) =>
            {
                var body = await Body(http, ct);
                var result = await rollouts.DecideAsync(id, AccessControl.CallerOf(http)!, decision, body.Reason, AccessControl.WhoOf(http), ct);
                return result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);
            }).WithName($"{Capital(name)}Rollout").WithMetadata(approver);
        }

        api.MapPost("/environments/{environment}/freeze", async (string environment, FreezeRequest request, HttpContext http, CancellationToken ct) =>
        {
            TimeSpan? duration = null;
            if (request.For is { } text)
            {
                if (Core.Manifest.Values.DurationSyntax.TryParse(text, out var d) is { } error)
                {
                    return Problem(new Problem(400, "Invalid request", $"'for': {error.Message}"));
                }

                duration = d;
            }

            if (AccessControl.Check(http, Role.Approver, environment) is { } denied)
            {
                return denied;
            }

            var result = await rollouts.FreezeAsync(environment, request.Reason, duration, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);
        }).WithName("FreezeEnvironment").WithMetadata(approver);

        api.MapDelete("/environments/{environment}/freeze", async (string environment, HttpContext http, CancellationToken ct) =>
        {
            if (AccessControl.Check(http, Role.Approver, environment) is { } denied)
            {
                return denied;
            }

            var result = await rollouts.UnfreezeAsync(environment, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);
        }).WithName("UnfreezeEnvironment").WithMetadata(approver);

        api.MapGet("/audit", async (string? target, DateTimeOffset? since, int? limit, CancellationToken ct) =>
            Results.Ok(await audit.AuditAsync(new Core.Audit.AuditQuery(target, since, Math.Clamp(limit ?? 200, 1, 100_000)), ct))).WithName("ListAudit").WithMetadata(viewer);

        api.MapGet("/audit/verify", async (CancellationToken ct) =>
            Results.Ok(await Core.Audit.AuditStoreExtensions.VerifyAuditAsync(audit, ct))).WithName("VerifyAudit").WithMetadata(viewer);

        // Every event as JSON lines, oldest first, streamed.
        api.MapGet("/audit/export", async (HttpContext http, CancellationToken ct) =>
        {
            http.Response.ContentType = "application/x-ndjson";
            await foreach (var e in audit.AllAuditAsync(ct))
            {
                await http.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(e, Core.Rollouts.GantryJson.Options) + "\n", ct);
            }
        }).WithName("ExportAudit").WithMetadata(viewer);

        api.MapPost("/gates/evaluations", async (Gates.GateEvaluationRequest request, HttpContext http, CancellationToken ct) =>
        {
            var result = await gates.EvaluateAsync(request, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p
                ? Problem(p)
                : Results.Created($"/api/v1/gates/evaluations?service={Uri.EscapeDataString(request.Service)}&version={Uri.EscapeDataString(request.Version)}", result.Value);
        }).WithName("EvaluateGate").WithMetadata(new Requires(Role.Ci));

        api.MapPost("/gates/overrides", async (Gates.GateOverrideRequest request, HttpContext http, CancellationToken ct) =>
        {
            // An override lets the release into every environment that requires the gate: the approver must hold the role in each.
            var gateName = request.Gate ?? (rollouts.Manifest.Gates.Length == 1 ? rollouts.Manifest.Gates[0].Name : null);
            foreach (var environment in rollouts.Manifest.Environments.Where(e => gateName is not null && e.Gate == gateName))
            {
                if (AccessControl.Check(http, Role.Approver, environment.Name) is { } denied)
                {
                    return denied;
                }
            }

            var result = await gates.OverrideAsync(request, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p ? Problem(p) : Results.Ok(result.Value);
        }).WithName("OverrideGate").WithMetadata(approver);

        api.MapGet("/gates/evaluations", async (string? service, string? version, int? limit, CancellationToken ct) =>
            Results.Ok(await gateStore.EvaluationsAsync(service, version, Math.Clamp(limit ?? 20, 1, 1000), ct))).WithName("ListGateEvaluations").WithMetadata(viewer);

    }
}
