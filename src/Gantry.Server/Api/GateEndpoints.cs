using Gantry.Core.Access;
using Gantry.Core.Gates;
using Gantry.Server.Access;
using Gantry.Server.Gates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>Quality gates: evaluations posted by CI, their list, and overrides of a REMEDIATE.</summary>
public static class GateEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost(ApiRoutes.GateEvaluations, async Task<Results<Created<GateEvaluation>, ProblemHttpResult>> (GateEvaluationRequest request, HttpContext http, GateService gates, CancellationToken ct) =>
        {
            var result = await gates.EvaluateAsync(request, AccessControl.WhoOf(http), ct);
            return result.Problem is { } p
                ? ProblemResults.For(p)
                : TypedResults.Created(ApiRoutes.Fill(ApiRoutes.GateEvaluations, ("service", request.Service), ("version", request.Version)), result.Value);
        }).WithName("EvaluateGate").WithMetadata(new Requires(Role.Ci));

        api.MapPost(ApiRoutes.GateOverrides, async Task<Results<Ok<GateEvaluation>, ProblemHttpResult>> (GateOverrideRequest request, HttpContext http, GantryManifest manifest, GateService gates, CancellationToken ct) =>
        {
            // An override lets the release into every environment that requires the gate: the approver must hold the role in each.
            var gateName = request.Gate ?? (manifest.Gates.Length == 1 ? manifest.Gates[0].Name : null);
            foreach (var environment in manifest.Environments.Where(e => gateName is not null && e.Gate == gateName))
            {
                if (AccessControl.Check(http, Role.Approver, environment.Name) is { } denied)
                {
                    return denied;
                }
            }

            return ApiEndpoints.Answer(await gates.OverrideAsync(request, AccessControl.WhoOf(http), ct));
        }).WithName("OverrideGate").WithMetadata(new Requires(Role.Approver));

        api.MapGet(ApiRoutes.GateEvaluations, async (string? service, string? version, int? limit, IGateStore store, CancellationToken ct) =>
            TypedResults.Ok((await store.EvaluationsAsync(service, version, Math.Clamp(limit ?? 20, 1, 1000), ct)).ToList())).WithName("ListGateEvaluations").WithMetadata(new Requires(Role.Viewer));
    }
}
