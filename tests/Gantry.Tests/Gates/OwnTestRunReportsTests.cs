using System.Diagnostics;
using System.Xml.Linq;
using Gantry.Core.Gates.Reports;
using Gantry.Testing;

namespace Gantry.Tests.Gates;

/// <summary>
/// The readers on reports of this project's own tests, made by the real tools: `dotnet test` of the storage
/// tests with the TRX logger and coverlet's Cobertura collector. Each reader must agree with the totals the
/// tool itself wrote into its report.
/// </summary>
public sealed class OwnTestRunReportsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-own-run-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact(Timeout = 240_000)]
    public async Task Readers_ReportsOfTheStorageTestsRun_AgreeWithTheToolsOwnTotals()
    {
        // A copy of the built tests: coverlet instruments the assemblies it covers, and the originals may be in use
        // by the test run this test is part of.
        var built = RepoPaths.Combine("artifacts", "bin", "Gantry.Storage.Tests", RepoPaths.Configuration);
        File.Exists(Path.Combine(built, "Gantry.Storage.Tests.dll")).Should().BeTrue($"the storage tests are built in {built} (build the solution first)");
        var copy = Directory.CreateDirectory(Path.Combine(folder, "tests")).FullName;
        foreach (var file in Directory.GetFiles(built, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(built, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        // Run from a dll, vstest finds coverlet's collector where the package restored it (the project run would say so itself).
        var version = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(RepoPaths.Combine("Directory.Packages.props")), "\"coverlet.collector\" Version=\"([^\"]+)\"").Groups[1].Value;
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var collector = Directory.GetFiles(Path.Combine(packages, "coverlet.collector", version, "build"), "coverlet.collector.dll", SearchOption.AllDirectories).Should().ContainSingle().Subject;
        var results = Path.Combine(folder, "results");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = copy, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "test", Path.Combine(copy, "Gantry.Storage.Tests.dll"), "--nologo", "--logger", "trx;LogFileName=storage.trx", "--collect", "XPlat Code Coverage", "--test-adapter-path", Path.GetDirectoryName(collector)!, "--results-directory", results })
        {
            info.ArgumentList.Add(a);
        }

        using (var run = Process.Start(info)!)
        {
            var output = run.StandardOutput.ReadToEndAsync();
            var errors = run.StandardError.ReadToEndAsync();
            await run.WaitForExitAsync();
            run.ExitCode.Should().Be(0, $"{await output}\n{await errors}");
        }

        var trx = Path.Combine(results, "storage.trx");
        var counters = XDocument.Load(trx).Descendants().First(e => e.Name.LocalName == "Counters");
        await using (var stream = File.OpenRead(trx))
        {
            var tests = TrxReader.Read(trx, stream);
            tests.Total.Should().Be((int)counters.Attribute("total")!).And.BeGreaterThan(5);
            tests.Passed.Should().Be((int)counters.Attribute("passed")!);
            tests.Failed.Should().Be((int)counters.Attribute("failed")!);
        }

        // The collector leaves the report as an attachment and a copy under In/: the same file twice.
        var cobertura = Directory.GetFiles(results, "coverage.cobertura.xml", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var root = XDocument.Load(cobertura).Root!;
        CoverageSummary coverage;
        await using (var stream = File.OpenRead(cobertura))
        {
            coverage = CoberturaReader.Read(cobertura, stream);
            coverage.LinesValid.Should().Be((int)root.Attribute("lines-valid")!).And.BeGreaterThan(100);
            coverage.LinesCovered.Should().Be((int)root.Attribute("lines-covered")!);
        }

        // Lines are counted by the reader itself, once per file and line: coverlet's totals agree. Coverlet's branch
        // totals include branches that no line carries (about 1.5% here, growing with the code), so the lines'
        // branches are checked against the lines' own condition-coverage, read here with LINQ, once per class and line.
        var linesBranches = root.Descendants().Where(e => e.Name.LocalName == "class")
            .SelectMany(c => c.Elements().Where(e => e.Name.LocalName == "lines").Elements().Select(l => (File: (string?)c.Attribute("filename"), Class: (string?)c.Attribute("name"), Line: l)))
            .Where(x => (string?)x.Line.Attribute("branch") is "true" or "True")
            .GroupBy(x => (x.File, x.Class, Number: (int)x.Line.Attribute("number")!))
            .Sum(g => g.Max(x => int.Parse(System.Text.RegularExpressions.Regex.Match((string)x.Line.Attribute("condition-coverage")!, @"/(\d+)\)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        coverage.BranchesValid.Should().Be(linesBranches).And.BeGreaterThan(100).And.BeLessThanOrEqualTo((int)root.Attribute("branches-valid")!);

        // The same report given twice (the collector's attachment and its copy) counts once.
        await using var again = File.OpenRead(cobertura);
        await using var twice = File.OpenRead(cobertura);
        var merged = CoverageData.Merge([CoberturaReader.ReadData(cobertura, again), CoberturaReader.ReadData(cobertura, twice)]).Summary([cobertura, cobertura]);
        (merged.LinesCovered, merged.LinesValid, merged.BranchesValid).Should().Be((coverage.LinesCovered, coverage.LinesValid, coverage.BranchesValid));
    }
}
