namespace Gantry;

/// <summary>
/// Runtime settings the runtime reads as it starts (before <c>Main</c>), so only the program that starts a command can
/// give them: the native client, in front of the full program, adds them to the environment it hands over. It names
/// them in <see cref="Marker"/>, and the full program takes them out of its own environment again once running, so
/// what it starts (its routers, jobs) starts with the runtime's defaults. A value the user set in the environment wins,
/// and is left to be inherited.
/// </summary>
public static class StartSettings
{
    /// <summary>The variable that names, comma-separated, the variables the starter added for this process alone.</summary>
    public const string Marker = "GANTRY_RUNTIME_SET";

    private const string TieredPgo = "DOTNET_TieredPGO";

    /// <summary>The variables to add to the environment of the full program for a command line, the marker among them.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> For(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var added = new List<KeyValuePair<string, string>>();
        if (args is ["server", ..] && environment(TieredPgo) is null)
        {
            // The control plane runs most of its code a few times a minute, and a burst of deploys anew after each start:
            // compiling that code once more with instrumentation first cost more than the profile gave back (100
            // redeploys: 14% less of its CPU without, at rest the same; bench/README.md). The router keeps the default.
            added.Add(new(TieredPgo, "0"));
        }

        if (added.Count > 0)
        {
            added.Add(new(Marker, string.Join(',', added.Select(a => a.Key))));
        }

        return added;
    }

    /// <summary>The variables the starter added for this process alone, the marker with them: to take out once the runtime has read them.</summary>
    public static IReadOnlyList<string> AddedForThisProcess(Func<string, string?> environment) =>
        environment(Marker) is { Length: > 0 } names ? [.. names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), Marker] : [];
}
