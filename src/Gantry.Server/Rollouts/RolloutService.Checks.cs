using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;

namespace Gantry.Server.Rollouts;

/// <summary>What a request must satisfy before anything is stored: variables, sizes, a front door of its own.</summary>
public sealed partial class RolloutService
{
    /// <summary>The release a deploy asks for: its variables in name order, its secret names once each.</summary>
    private static Release ReleaseOf(DeployRequest request) =>
        new(request.Version, [.. (request.Set ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal)], request.CommitSha, request.CommitTime)
        {
            Secret = [.. (request.Secret ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
        };

    /// <summary>A deploy's service and environment known, its version valid, its variables allowed: the first problem, or null.</summary>
    private Problem? CheckRequest(DeployRequest request, out ServiceSpec service, out string environment)
    {
        if (Resolve(request.Service, request.Environment, out service, out environment) is { } problem)
        {
            return problem;
        }

        return !IsValidVersion(request.Version)
            ? Bad($"version '{request.Version}' is not valid: letters, digits, '.', '_', '+' and '-', up to 128 characters")
            : CheckVariables(request, service);
    }

    /// <summary>
    /// The deploy's variables: valid names, no loader or runtime hooks unless the service allows them, no control
    /// characters, bounded sizes (413 past them); and a reason of bounded length.
    /// </summary>
    private static Problem? CheckVariables(DeployRequest request, ServiceSpec service)
    {
        foreach (var key in (request.Set ?? new Dictionary<string, string>()).Keys.Where(k => !VariableName().IsMatch(k)))
        {
            return Bad($"variable name '{(key.Length > 64 ? key[..64] + "..." : key)}' is not valid: letters, digits and '_', not starting with a digit");
        }

        if (DeployVariables.Check(request.Set, service.AllowVariables) is { } refused)
        {
            return refused.TooLarge ? new Problem(413, "Too large", refused.Message, "too-large") : new Problem(400, "Invalid request", refused.Message, "variable");
        }

        return DeployVariables.CheckReason(request.Reason) is { } longReason ? new Problem(413, "Too large", longReason, "too-large") : null;
    }

    /// <summary>
    /// Environments on one host never share a front door silently: a service whose listener already serves
    /// another environment (or service) is refused, with how to give it its own.
    /// </summary>
    private async Task<Problem?> SharedFrontDoorAsync(ServiceSpec spec, string environment, CancellationToken ct)
    {
        foreach (var other in await store.LatestPerTargetAsync(ct))
        {
            if ((other.Service == spec.Name && other.Environment == environment) || other.StableVersion is null || manifest.FindService(other.Service) is not { } otherService)
            {
                continue;
            }

            if (EffectiveService.For(manifest, otherService, other.Environment).Listen == spec.Listen)
            {
                return new Problem(409, "Front door in use", $"{spec.Listen} is the front door of {other.Service} in {other.Environment}, which runs {other.StableVersion}: "
                    + $"{spec.Name} in {environment} would share it. Give {environment} its own with environments.{environment}.overrides.{spec.Name}.listen in the manifest", "shared-listen");
            }
        }

        return null;
    }
}
