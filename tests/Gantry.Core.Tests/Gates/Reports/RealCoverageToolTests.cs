using System.Diagnostics;
using System.Globalization;
using Gantry.Core.Gates.Reports;
using Gantry.Testing;

namespace Gantry.Core.Tests.Gates.Reports;

/// <summary>
/// Reports written on this machine by the real tools, read unchanged: gcovr's Cobertura (with its DOCTYPE line)
/// and lcov's tracefile of the same C program, coverage.py's Cobertura, LCOV and JSON, GoogleTest's JUnit with a
/// disabled test. Each is checked against the figures the tool prints itself.
/// </summary>
public sealed class RealCoverageToolTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-tools-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private async Task<string> RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(RealBinaries.Find(program) ?? program) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.Should().Be(0, $"{program} {string.Join(' ', args)}: {await error}");
        return await output;
    }

    private CoverageData Data(string file) => file.EndsWith(".xml", StringComparison.Ordinal)
        ? CoberturaReader.ReadData(file, File.OpenRead(Path.Combine(folder, file)))
        : LcovReader.ReadData(file, File.OpenRead(Path.Combine(folder, file)));

    [RequiresBinaryFact("gcovr", "gcovr", Timeout = 120_000)]
    public async Task GcovrCoberturaAndLcov_OfTheSameProgram_GiveTheToolsOwnFigures()
    {
        RealBinaries.Find("lcov").Should().NotBeNull("lcov is installed with gcovr by ./test.sh");
        await File.WriteAllTextAsync(Path.Combine(folder, "calc.c"), """
            int sign(int x) {
                if (x > 0)
                    return 1;
                else if (x < 0)
                    return -1;
                return 0;
            }
            int unused(int x) { return x * 2; }
            """);
        await File.WriteAllTextAsync(Path.Combine(folder, "main.c"), "int sign(int);\nint main(void) { return sign(3) == 1 && sign(0) == 0 ? 0 : 1; }\n");
        await RunAsync("gcc", "--coverage", "-O0", "-o", "app", "main.c", "calc.c");
        await RunAsync(Path.Combine(folder, "app"));
        await RunAsync("gcovr", "-r", ".", "--cobertura", "gcovr.xml");
        await RunAsync("lcov", "--capture", "--directory", ".", "--output-file", "lcov.info", "--quiet");
        var own = await RunAsync("gcovr", "-r", ".");
        var total = own.Split('\n').Single(l => l.StartsWith("TOTAL", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (lines, executed) = (int.Parse(total[1], CultureInfo.InvariantCulture), int.Parse(total[2], CultureInfo.InvariantCulture));

        (await File.ReadAllLinesAsync(Path.Combine(folder, "gcovr.xml")))[1].Should().StartWith("<!DOCTYPE coverage SYSTEM", "gcovr writes the DOCTYPE line");
        var cobertura = Data("gcovr.xml").Summary(["gcovr.xml"]);
        (cobertura.LinesCovered, cobertura.LinesValid).Should().Be((executed, lines), "gcovr's own TOTAL line");
        var tracefile = Data("lcov.info").Summary(["lcov.info"]);
        (tracefile.LinesCovered, tracefile.LinesValid).Should().Be((executed, lines), "the same code's LCOV gives the same figures");
        var both = CoverageData.Merge([Data("gcovr.xml"), Data("lcov.info")]).Summary(["gcovr.xml", "lcov.info"]);
        (both.LinesCovered, both.LinesValid, both.SourceFiles).Should().Be((executed, lines, 2), "two formats of one run are one set of lines, not two");
    }

    [RequiresBinaryFact("python3-coverage", "python3-coverage", Timeout = 120_000)]
    public async Task CoveragePy_CoberturaAndLcov_AgreeWithItsReport_AndItsJsonIsExplained()
    {
        await File.WriteAllTextAsync(Path.Combine(folder, "shop.py"), "def price(n, member):\n    if member:\n        return n * 0.9\n    return n\n\ndef unused():\n    return 1\n");
        await File.WriteAllTextAsync(Path.Combine(folder, "test_shop.py"), "from shop import price\n\ndef test_member():\n    assert price(10, True) == 9\n");
        await RunAsync("python3-coverage", "run", "--branch", "--source=.", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shop.py");
        await RunAsync("python3-coverage", "xml", "-o", "py.xml");
        await RunAsync("python3-coverage", "lcov", "-o", "py.info");
        await RunAsync("python3-coverage", "json", "-o", "py.json");
        var report = await RunAsync("python3-coverage", "report");
        var total = report.Split('\n').Single(l => l.StartsWith("TOTAL", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (statements, missed) = (int.Parse(total[1], CultureInfo.InvariantCulture), int.Parse(total[2], CultureInfo.InvariantCulture));

        var xml = Data("py.xml").Summary(["py.xml"]);
        (xml.LinesCovered, xml.LinesValid).Should().Be((statements - missed, statements));
        var info = Data("py.info").Summary(["py.info"]);
        (info.LinesCovered, info.LinesValid).Should().Be((statements - missed, statements));
        var merged = CoverageData.Merge([Data("py.xml"), Data("py.info")]).Summary(["py.xml", "py.info"]);
        (merged.LinesCovered, merged.LinesValid).Should().Be((statements - missed, statements), "relative and absolute paths of the same files meet");

        var json = () => LcovReader.Read("py.json", File.OpenRead(Path.Combine(folder, "py.json")));
        json.Should().Throw<ReportException>().WithMessage("py.json:1:1: this is JSON, not a coverage report Gantry reads: give Cobertura XML or an LCOV tracefile (coverage.py: 'coverage xml' or 'coverage lcov'*");
    }

    [RequiresBinaryFact("g++", "g++", Timeout = 180_000)]
    public async Task GoogleTest_DisabledTests_AreSkipped()
    {
        File.Exists("/usr/include/gtest/gtest.h").Should().BeTrue("libgtest-dev is installed by ./test.sh");
        await File.WriteAllTextAsync(Path.Combine(folder, "calc_test.cc"), """
            #include <gtest/gtest.h>
            TEST(Calc, Adds) { EXPECT_EQ(2, 1 + 1); }
            TEST(Calc, Fails) { EXPECT_EQ(3, 1 + 1) << "off by one"; }
            TEST(Calc, DISABLED_Later) { EXPECT_EQ(0, 1); }
            TEST(Calc, Skips) { GTEST_SKIP() << "no network"; }
            """);
        await RunAsync("g++", "-std=c++17", "-o", "calc_test", "calc_test.cc", "-lgtest", "-lgtest_main", "-pthread");
        var info = new ProcessStartInfo(Path.Combine(folder, "calc_test"), ["--gtest_output=xml:gtest.xml"]) { WorkingDirectory = folder, RedirectStandardOutput = true };
        using (var run = Process.Start(info)!)
        {
            await run.StandardOutput.ReadToEndAsync();
            await run.WaitForExitAsync();
            run.ExitCode.Should().Be(1, "one test fails");
        }

        var summary = JUnitReader.Read("gtest.xml", File.OpenRead(Path.Combine(folder, "gtest.xml")));
        (summary.Total, summary.Passed, summary.Failed, summary.Skipped).Should().Be((4, 1, 1, 2), "GoogleTest's DISABLED_ test and its GTEST_SKIP are skipped, not passed");
        summary.Failures.Single().Should().Match<TestFailure>(f => f.Name == "Fails" && f.Suite == "Calc");
    }
}
