using BenchmarkDotNet.Attributes;
using Gantry.Core.Manifest;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gantry.Benchmarks.Manifest;

/// <summary>
/// Loading and validating a manifest against its peer, YamlDotNet alone building its own document
/// model from the same text: the ratio is what positions, validation and typed records cost.
/// </summary>
[MemoryDiagnoser]
public class ManifestLoaderBenchmarks
{
    private string text = string.Empty;

    [Params("examples/shop/gantry.yaml", "tests/Gantry.Core.Tests/Manifest/Complete/everything.yaml")]
    public string File { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "Gantry.slnx")))
        {
            dir = dir.Parent;
        }

        text = System.IO.File.ReadAllText(Path.Combine(dir?.FullName ?? throw new InvalidOperationException("run inside the repository"), File));
    }

    [Benchmark(Baseline = true, Description = "peer: YamlDotNet YamlStream.Load")]
    public int YamlDotNetOnly()
    {
        var stream = new YamlStream();
        stream.Load(new Parser(new StringReader(text)));
        return stream.Documents.Count;
    }

    [Benchmark(Description = "gantry: load + validate")]
    public int GantryLoad() => ManifestLoader.LoadText(text).Diagnostics.Count;
}
