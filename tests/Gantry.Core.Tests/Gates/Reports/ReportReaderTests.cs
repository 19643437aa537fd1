using System.Text;
using Gantry.Core.Gates.Reports;

namespace Gantry.Core.Tests.Gates.Reports;

/// <summary>Hand-checked samples of each dialect: the counts below were counted by hand from the files in Samples/.</summary>
public sealed class ReportReaderTests
{
    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "Gates", "Reports", "Samples", name);

    private static T Read<T>(string name, Func<string, Stream, T> reader)
    {
        using var stream = File.OpenRead(Sample(name));
        return reader(name, stream);
    }

    private static T ReadText<T>(string text, Func<string, Stream, T> reader, string name = "report")
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        return reader(name, stream);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("surefire.xml", 5, 2, 1, 1, 1, 1, 0.412)]
    [InlineData("pytest.xml", 4, 2, 1, 0, 1, 0, 0.004)]
    [InlineData("jest-junit.xml", 3, 2, 1, 0, 0, 0, 0.008)]
    [InlineData("go-junit-report.xml", 4, 1, 1, 1, 1, 0, 0.010)]
    public void JUnitRead_Dialect_CountsEveryTestCase(string file, int total, int passed, int failed, int errors, int skipped, int flaky, double seconds)
    {
        var summary = Read(file, JUnitReader.Read);
        (summary.Total, summary.Passed, summary.Failed, summary.Errors, summary.Skipped, summary.Flaky).Should().Be((total, passed, failed, errors, skipped, flaky));
        summary.Duration.TotalSeconds.Should().BeApproximately(seconds, 0.0005);
        summary.Failures.Should().HaveCount(failed + errors);
    }

    [Fact(Timeout = 10_000)]
    public void JUnitRead_Failures_KeepNameSuiteAndTheFirstLineOfWhy()
    {
        Read("surefire.xml", JUnitReader.Read).Failures.Should().Equal(
            new TestFailure("removesItem", "com.example.CartTest", TestOutcome.Failed, "expected: <1> but was: <2>", "surefire.xml"),
            new TestFailure("totals", "com.example.CartTest", TestOutcome.Error, "Connection refused", "surefire.xml"));
        Read("jest-junit.xml", JUnitReader.Read).Failures.Single().Message.Should().Be("Error: expect(received).toBe(expected) // Object.is equality");
        Read("go-junit-report.xml", JUnitReader.Read).Failures.Select(f => (f.Suite, f.Message)).Should().Equal(
            ("example.com/shop/cart", "Failed"), ("example.com/shop/db", "Runtime error"));
    }

    [Fact(Timeout = 10_000)]
    public void CoberturaRead_LinesRepeatedByClassesAndMethods_AreCountedOncePerFile()
    {
        var coverage = Read("cobertura.xml", CoberturaReader.Read);
        (coverage.LinesCovered, coverage.LinesValid, coverage.BranchesCovered, coverage.BranchesValid).Should().Be((4, 6, 1, 2));
        coverage.LinePercent.Should().BeApproximately(66.67, 0.01);

        // Without the root's totals, the same figures come from the lines.
        var text = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(Sample("cobertura.xml")), "(lines|branches)-(covered|valid)=\"\\d+\"", string.Empty);
        var computed = ReadText(text, CoberturaReader.Read);
        (computed.LinesCovered, computed.LinesValid, computed.BranchesCovered, computed.BranchesValid).Should().Be((4, 6, 1, 2));
    }

    [Fact(Timeout = 10_000)]
    public void LcovRead_Records_CountLinesAndBranches()
    {
        var coverage = Read("lcov.info", LcovReader.Read);
        (coverage.LinesCovered, coverage.LinesValid, coverage.BranchesCovered, coverage.BranchesValid).Should().Be((5, 7, 1, 2));
    }

    [Fact(Timeout = 10_000)]
    public void SarifRead_Results_MapSecuritySeverityThenLevelAndLeaveSuppressedOut()
    {
        var scan = Read("scan.sarif", SarifReader.Read);
        scan.Findings.Select(f => (f.RuleId, f.Severity, f.Tool)).Should().Equal(
            ("js/sql-injection", FindingSeverity.Critical, "CodeQL"),
            ("js/reflected-xss", FindingSeverity.High, "CodeQL"),
            ("js/weak-crypto", FindingSeverity.Medium, "CodeQL"),
            ("js/unused-variable", FindingSeverity.Low, "CodeQL"),
            ("CVE-2026-0001", FindingSeverity.Medium, "Trivy"),
            ("lint/style", FindingSeverity.Medium, "Trivy"));
        scan.Suppressed.Should().Be(2);
        scan.Findings[0].Location.Should().Be("src/db.js:42");
        scan.Findings[4].Message.Should().Be("openssl: buffer overflow");
    }

    [Fact(Timeout = 10_000)]
    public void TrxRead_RealDotnetTestRun_AgreesWithItsOwnCounters()
    {
        // Made on this machine: `dotnet test --logger trx --collect "XPlat Code Coverage"` of a small project with
        // one passing, one skipped, one failing assertion and one throwing test.
        var summary = Read("dotnet-test.trx", TrxReader.Read);
        (summary.Total, summary.Passed, summary.Failed, summary.Skipped).Should().Be((4, 1, 2, 1));
        summary.Failures.Select(f => (f.Name, f.Suite, f.Message)).Should().BeEquivalentTo(new[]
        {
            ("Add_NegativePrice_Throws", (string?)"CartTests", "System.InvalidOperationException : price missing"),
            ("Total_WithoutDiscount_IsTheSum", "CartTests", "Assert.Equal() Failure: Values differ"),
        });
    }

    [Fact(Timeout = 10_000)]
    public void CoberturaRead_RealCoverletReport_AgreesWithItsOwnTotals()
    {
        // From the same run: coverlet's root says lines-covered="10" lines-valid="12" branches-covered="2" branches-valid="4".
        var coverage = Read("coverlet.cobertura.xml", CoberturaReader.Read);
        (coverage.LinesCovered, coverage.LinesValid, coverage.BranchesCovered, coverage.BranchesValid).Should().Be((10, 12, 2, 4));
    }

    [Fact(Timeout = 10_000)]
    public void Read_DotnetTrxOfThisMachine_CountsItsResults()
    {
        const string trx = """
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun id="1" name="ci" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <Results>
                <UnitTestResult executionId="a" testId="1" testName="Shop.Tests.CartTests.Add_Item_Counts" duration="00:00:00.0123000" outcome="Passed" />
                <UnitTestResult executionId="b" testId="2" testName="Shop.Tests.CartTests.Remove_Item_Counts" duration="00:00:00.5000000" outcome="Failed">
                  <Output>
                    <ErrorInfo>
                      <Message>Expected 1 but found 2.</Message>
                      <StackTrace>at Shop.Tests.CartTests.Remove_Item_Counts()</StackTrace>
                    </ErrorInfo>
                  </Output>
                </UnitTestResult>
                <UnitTestResult executionId="c" testId="3" testName="Shop.Tests.CartTests.Skipped" duration="00:00:00" outcome="NotExecuted" />
              </Results>
              <ResultSummary outcome="Failed"><Counters total="3" executed="2" passed="1" failed="1" /></ResultSummary>
            </TestRun>
            """;
        var summary = ReadText(trx, TrxReader.Read);
        (summary.Total, summary.Passed, summary.Failed, summary.Skipped).Should().Be((3, 1, 1, 1));
        summary.Failures.Single().Should().Be(new TestFailure("Remove_Item_Counts", "Shop.Tests.CartTests", TestOutcome.Failed, "Expected 1 but found 2.", "report"));
        summary.Duration.Should().Be(TimeSpan.FromMilliseconds(512.3));
    }
}
