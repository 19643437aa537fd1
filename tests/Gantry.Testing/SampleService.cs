namespace Gantry.Testing;

/// <summary>Manifest text for the built sample service, shared by the tests that deploy it.</summary>
public static class SampleService
{
    /// <summary>
    /// The <c>process:</c> block running the sample at <c>{version}</c> on <c>{port}</c>; lines after the first are
    /// indented by <paramref name="column"/> spaces, so it can be placed in a YAML text at that column.
    /// </summary>
    public static string Process(int column)
    {
        var pad = new string(' ', column);
        return string.Join("\n" + pad,
            "process:",
            "  command: dotnet",
            $"  args: [\"{RepoPaths.ShopDll}\", --urls, \"http://127.0.0.1:{{port}}\"]",
            "  env: { APP_VERSION: \"{version}\" }",
            "  stopTimeout: 10s");
    }
}
