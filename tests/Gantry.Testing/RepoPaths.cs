namespace Gantry.Testing;

/// <summary>Paths inside the repository, found from the test's own location.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The folder holding Gantry.slnx.</summary>
    public static string Root => RootPath.Value;

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The built sample service (examples/shop), which every test project that uses it builds first.</summary>
    public static string ShopDll => Combine("artifacts", "bin", "Shop", Configuration, "Shop.dll");

    /// <summary>The built gantry executable's dll.</summary>
    public static string GantryDll => Combine("artifacts", "bin", "Gantry", Configuration, "gantry.dll");

    /// <summary>The configuration the tests were built in, as the artifacts folders name it (debug or release).</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "release" : "debug";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gantry.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Gantry.slnx not found above {AppContext.BaseDirectory}");
    }
}
