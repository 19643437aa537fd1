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

    /// <summary>
    /// A whole <c>services:</c> section with the sample as service <c>shop</c> on a free loopback port, readiness
    /// probed every 200 ms: what the CLI tests run against.
    /// </summary>
    public static string ShopServices() => string.Join("\n",
        "services:",
        "  shop:",
        "    " + Process(4),
        $"    listen: 127.0.0.1:{FreePort.Next()}",
        "    health:",
        "      readiness: { path: /health/ready, interval: 200ms }");

    /// <summary>An environment's own front door for the sample: <c>overrides: { shop: { listen: 127.0.0.1:PORT } }</c> on a free port, for inline YAML.</summary>
    public static string OwnListen() => $"overrides: {{ shop: {{ listen: 127.0.0.1:{FreePort.Next()} }} }}";
}
