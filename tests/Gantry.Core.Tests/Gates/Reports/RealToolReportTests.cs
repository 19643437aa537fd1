using System.Diagnostics;
using Gantry.Core.Gates.Reports;
using Gantry.Testing;

namespace Gantry.Core.Tests.Gates.Reports;

/// <summary>A JUnit report written by a real tool on this machine: Debian's pytest with --junitxml.</summary>
public sealed class RealToolReportTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-pytest-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [RequiresBinaryFact("pytest-3", "python3-pytest", Timeout = 60_000)]
    public async Task JUnitRead_ReportOfARealPytestRun_CountsWhatPytestRan()
    {
        await File.WriteAllTextAsync(Path.Combine(folder, "test_cart.py"), """
            import pytest

            @pytest.fixture
            def database():
                raise ConnectionError("database unreachable")

            def test_add():
                assert 1 + 1 == 2

            def test_remove():
                assert [1, 2].count(2) == 2, "expected two items"

            @pytest.mark.skip(reason="needs redis")
            def test_cache():
                pass

            def test_orders(database):
                pass

            @pytest.mark.parametrize("n", [1, 2, 3])
            def test_many(n):
                assert n > 0
            """);
        var info = new ProcessStartInfo(RealBinaries.Find("pytest-3")!) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-q", "-p", "no:cacheprovider", "--junitxml=report.xml", "test_cart.py" })
        {
            info.ArgumentList.Add(a);
        }

        using (var pytest = Process.Start(info)!)
        {
            await pytest.StandardOutput.ReadToEndAsync();
            await pytest.WaitForExitAsync();
            pytest.ExitCode.Should().Be(1, "one test fails");
        }

        await using var stream = File.OpenRead(Path.Combine(folder, "report.xml"));
        var summary = JUnitReader.Read("report.xml", stream);
        (summary.Total, summary.Passed, summary.Failed, summary.Errors, summary.Skipped).Should().Be((7, 4, 1, 1, 1));
        summary.Failures.Select(f => (f.Suite, f.Name, f.Outcome)).Should().Equal(
            ("test_cart", "test_remove", TestOutcome.Failed),
            ("test_cart", "test_orders", TestOutcome.Error));
        summary.Failures[0].Message.Should().StartWith("AssertionError: expected two items");
        summary.Failures[1].Message.Should().Contain("database unreachable");
    }
}
