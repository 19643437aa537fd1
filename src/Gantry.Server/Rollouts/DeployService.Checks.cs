
namespace Gantry.Server.Rollouts;

/// <summary>What a deploy request must satisfy before admission is asked: a known target, a valid version, allowed variables, secrets with values.</summary>
public sealed partial class DeployService
{
    /// <summary>The release a deploy asks for: its variables in name order, its secret names once each.</summary>
    public static Release ReleaseOf(DeployRequest request) =>
        new(request.Version, [.. (request.Set ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal)], request.CommitSha, request.CommitTime)
        {
            Secret = [.. (request.Secret ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
        };

    /// <summary>A deploy's service and environment known, its version valid, its variables allowed: the first problem, or null.</summary>
    private Problem? CheckRequest(DeployRequest request, out ServiceSpec service, out string environment)
    {
        if (Requests.Resolve(manifest, request.Service, request.Environment, out service, out environment) is { } problem)
        {
            return problem;
        }

        return !IsValidVersion(request.Version)
            ? Requests.Bad($"version '{request.Version}' is not valid: letters, digits, '.', '_', '+' and '-', up to 128 characters")
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
            return Requests.Bad($"variable name '{(key.Length > 64 ? key[..64] + "..." : key)}' is not valid: letters, digits and '_', not starting with a digit");
        }

        if (DeployVariables.Check(request.Set, service.AllowVariables) is { } refused)
        {
            return refused.TooLarge ? ProblemCodes.TooLarge.With(refused.Message) : ProblemCodes.InvalidVariable.With(refused.Message);
        }

        return DeployVariables.CheckReason(request.Reason) is { } longReason ? ProblemCodes.TooLarge.With(longReason) : null;
    }

    /// <summary>A secret named without a value is a mistake worth refusing (its value would be missing).</summary>
    private static Problem? UnknownSecrets(DeployRequest request)
    {
        var missing = (request.Secret ?? []).Where(k => request.Set is null || !request.Set.ContainsKey(k)).ToList();
        return missing.Count == 0 ? null : Requests.Bad($"secret variable {string.Join(", ", missing)} has no value: give it with --secret KEY=VALUE");
    }
}
