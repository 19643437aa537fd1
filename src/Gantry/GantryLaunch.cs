namespace Gantry;

/// <summary>How to start this very executable again (the router process, its successor): the apphost, or <c>dotnet gantry.dll</c>.</summary>
public sealed record GantryLaunch(string FileName, IReadOnlyList<string> Prefix)
{
    public static GantryLaunch Self()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this executable is unknown");
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? new GantryLaunch(path, [typeof(GantryLaunch).Assembly.Location])
            : new GantryLaunch(path, []);
    }

    /// <summary>The arguments of <c>gantry router --data DIR</c>.</summary>
    public IReadOnlyList<string> RouterArguments(string dataDirectory) => [.. Prefix, "router", "--data", Path.GetFullPath(dataDirectory)];

    /// <summary>The arguments of <c>gantry router --data DIR --spare</c>.</summary>
    public IReadOnlyList<string> SpareArguments(string dataDirectory) => [.. RouterArguments(dataDirectory), "--spare"];
}
