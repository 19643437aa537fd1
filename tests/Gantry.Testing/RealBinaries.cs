namespace Gantry.Testing;

/// <summary>
/// Programs from Debian packages that tests start for real. Under <c>./test.sh</c> (which installs them and
/// sets <c>GANTRY_REQUIRE_BINARIES=1</c>) a missing one fails its test; under plain <c>dotnet test</c> the
/// test is skipped with the reason.
/// </summary>
public static class RealBinaries
{
    public static bool Required => Environment.GetEnvironmentVariable("GANTRY_REQUIRE_BINARIES") == "1";

    /// <summary>The full path of <paramref name="name"/> on PATH (or in /usr/sbin, /sbin), or null.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Append("/usr/sbin").Append("/sbin")
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

/// <summary>A fact that needs a real program: skipped with the reason when it is missing, unless ./test.sh requires it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresBinaryFactAttribute : FactAttribute
{
    public RequiresBinaryFactAttribute(string binary, string package)
    {
        if (RealBinaries.Find(binary) is null && !RealBinaries.Required)
        {
            Skip = $"{binary} is not installed (apt-get install {package}); ./test.sh installs it and runs this test";
        }
    }
}
