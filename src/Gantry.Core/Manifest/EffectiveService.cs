namespace Gantry.Core.Manifest;

/// <summary>A service as it runs in one environment: the environment's variables and overrides applied.</summary>
public static class EffectiveService
{
    /// <summary>The name used when a manifest declares no environments.</summary>
    public const string DefaultEnvironment = "default";

    /// <summary>The environment a deploy goes to when none is named: the first declared, or <see cref="DefaultEnvironment"/>.</summary>
    public static string DefaultEnvironmentOf(GantryManifest manifest) =>
        manifest.Environments.IsEmpty ? DefaultEnvironment : manifest.Environments[0].Name;

    /// <summary>Whether deploys may name <paramref name="environment"/>.</summary>
    public static bool Knows(GantryManifest manifest, string environment) =>
        manifest.Environments.IsEmpty ? environment == DefaultEnvironment : manifest.FindEnvironment(environment) is not null;

    /// <summary>
    /// The services that serve on <paramref name="listen"/> in some environment: their own listener, unless an
    /// environment overrides it, or an override of theirs. A target of any other service listens elsewhere.
    /// </summary>
    public static IEnumerable<ServiceSpec> MayListenOn(GantryManifest manifest, Values.Endpoint listen) =>
        manifest.Services.Where(service => service.Listen == listen
            || manifest.Environments.Any(e => e.Overrides.Any(o => o.Service == service.Name && o.Listen == listen)));

    /// <summary>Every runtime section of a service: its own and those of its environment overrides.</summary>
    public static IEnumerable<RuntimeSpec> RuntimesOf(GantryManifest manifest, ServiceSpec service) =>
        new[] { service.Runtime }.Concat(manifest.Environments.SelectMany(e => e.Overrides).Where(o => o.Service == service.Name && o.Runtime is not null).Select(o => o.Runtime!));

    public static ServiceSpec For(GantryManifest manifest, ServiceSpec service, string environment)
    {
        if (manifest.FindEnvironment(environment) is not { } env)
        {
            return service;
        }

        var over = env.Overrides.FirstOrDefault(o => o.Service == service.Name);
        var variables = env.Variables.Concat(over?.Env ?? []).ToList();
        var runtime = over?.Runtime ?? service.Runtime;
        var merged = runtime.Env.Where(e => variables.TrueForAll(v => v.Key != e.Key)).Concat(variables);
        return service with
        {
            Replicas = over?.Replicas ?? service.Replicas,
            Listen = over?.Listen ?? service.Listen,
            Strategy = over?.Strategy ?? service.Strategy,
            Runtime = runtime with { Env = [.. merged] },
        };
    }
}
