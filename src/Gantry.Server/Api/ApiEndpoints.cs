using Gantry.Server.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>
/// The REST API under <see cref="ApiRoutes.Base"/>, one file per area (services and releases, rollouts, governance,
/// gates, incidents, audit, tokens, system). Handlers take the services they need from the host; errors are
/// problem+json with a code from <see cref="ProblemCodes"/>.
/// </summary>
public static class ApiEndpoints
{
    public static void Map(WebApplication web, bool describedInPublic, Func<CancellationToken, Task<string>> metricsText)
    {
        SystemEndpoints.Map(web, describedInPublic, metricsText);
        var api = web.MapGroup(ApiRoutes.Base);
        ServiceEndpoints.Map(api);
        RolloutEndpoints.Map(api);
        GovernanceEndpoints.Map(api);
        GateEndpoints.Map(api);
        IncidentEndpoints.Map(api);
        AuditEndpoints.Map(api);
        TokenEndpoints.Map(api);
        Dashboard.DashboardEndpoints.Map(web);
    }

    /// <summary>200 with the value, or the problem.</summary>
    public static Results<Ok<T>, ProblemHttpResult> Answer<T>(Result<T> result) =>
        result.Problem is { } p ? ProblemResults.For(p) : TypedResults.Ok(result.Value!);

    /// <summary>The environment a request without one means.</summary>
    public static string EnvironmentOr(GantryManifest manifest, string? environment) => environment ?? EffectiveService.DefaultEnvironmentOf(manifest);

    public static string Capital(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
