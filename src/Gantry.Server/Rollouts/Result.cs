
namespace Gantry.Server.Rollouts;

/// <summary>Either a value or a problem.</summary>
public sealed record Result<T>(T? Value, Problem? Problem)
{
    public static implicit operator Result<T>(Problem problem) => new(default, problem);

    public static implicit operator Result<T>(T value) => new(value, null);
}

/// <summary>Checks every service shares: a named service and environment exist, a text is not too long.</summary>
public static class Requests
{
    /// <summary>The service and the environment (the default one when not named), or the problem with what exists.</summary>
    public static Problem? Resolve(GantryManifest manifest, string serviceName, string? environmentName, out ServiceSpec service, out string environment)
    {
        environment = environmentName ?? EffectiveService.DefaultEnvironmentOf(manifest);
        service = manifest.FindService(serviceName)!;
        if (service is null)
        {
            var known = string.Join(", ", manifest.Services.Select(s => s.Name));
            return ProblemCodes.UnknownService.With($"there is no service '{serviceName}' in the manifest (services: {known})");
        }

        if (!EffectiveService.Knows(manifest, environment))
        {
            var known = manifest.Environments.IsEmpty ? EffectiveService.DefaultEnvironment : string.Join(", ", manifest.Environments.Select(e => e.Name));
            return ProblemCodes.UnknownEnvironment.With($"there is no environment '{environment}' in the manifest (environments: {known})");
        }

        return null;
    }

    /// <summary>A reason, comment or note beyond the limit: 413, nothing stored.</summary>
    public static Problem? TooLong(string? text, string what = "reason") =>
        DeployVariables.CheckReason(text, what) is { } message ? ProblemCodes.TooLarge.With(message) : null;

    public static Problem Bad(string detail) => ProblemCodes.InvalidRequest.With(detail);

    public static RolloutState? First(IReadOnlyList<RolloutState> list) => list.Count > 0 ? list[0] : null;
}
