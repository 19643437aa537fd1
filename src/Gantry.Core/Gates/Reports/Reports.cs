namespace Gantry.Core.Gates.Reports;

/// <summary>A report that cannot be read: where (file, line, column from 1) and why. Never a silent zero.</summary>
public sealed class ReportException(string file, int line, int column, string message) : Exception($"{file}:{line}:{column}: {message}")
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public int Column { get; } = column;

    public string Reason { get; } = message;
}

public enum TestOutcome
{
    Passed,
    Failed,
    Error,
    Skipped,
}

/// <summary>A test that did not pass, as a person wants to read it: which, where from, and the first line of why.</summary>
public sealed record TestFailure(string Name, string? Suite, TestOutcome Outcome, string Message, string File);

/// <summary>
/// Totals of one or more test reports. <see cref="Flaky"/> counts tests that failed and then passed on a
/// rerun (counted as passed). Failures are kept in the order read.
/// </summary>
public sealed record TestSummary(int Total, int Passed, int Failed, int Errors, int Skipped, int Flaky, TimeSpan Duration, ValueList<TestFailure> Failures, ValueList<string> Files)
{
    public static TestSummary Empty { get; } = new(0, 0, 0, 0, 0, 0, TimeSpan.Zero, [], []);

    /// <summary>Tests that ran (not skipped).</summary>
    public int Executed => Total - Skipped;

    public TestSummary Add(TestSummary other) => new(
        Total + other.Total, Passed + other.Passed, Failed + other.Failed, Errors + other.Errors, Skipped + other.Skipped, Flaky + other.Flaky,
        Duration + other.Duration, [.. Failures, .. other.Failures], [.. Files, .. other.Files]);
}

/// <summary>Counts test results as a reader meets them, keeping the failures; one tally per report file.</summary>
internal sealed class TestTally(string file)
{
    private readonly List<TestFailure> failures = [];
    private int total, passed, failed, errors, skipped, flaky;
    private TimeSpan duration;

    public void Add(TestOutcome outcome, string name, string? suite, string message, TimeSpan time, bool wasFlaky = false)
    {
        total++;
        duration += time;
        flaky += wasFlaky ? 1 : 0;
        switch (outcome)
        {
            case TestOutcome.Passed:
                passed++;
                break;
            case TestOutcome.Skipped:
                skipped++;
                break;
            default:
                failed += outcome == TestOutcome.Failed ? 1 : 0;
                errors += outcome == TestOutcome.Error ? 1 : 0;
                failures.Add(new TestFailure(name, suite, outcome, message, file));
                break;
        }
    }

    public TestSummary Summary() => new(total, passed, failed, errors, skipped, flaky, duration, [.. failures], [file]);
}

/// <summary>Line (and branch, where the format has them) coverage of one or more reports; a line counted once per file.</summary>
public sealed record CoverageSummary(int LinesCovered, int LinesValid, int BranchesCovered, int BranchesValid, ValueList<string> Files)
{
    /// <summary>How many source files the lines are in.</summary>
    public int SourceFiles { get; init; }

    /// <summary>How many reports were merged.</summary>
    public int Reports { get; init; }

    /// <summary>Covered lines as a percentage (0 to 100); 0 when no lines were found.</summary>
    public double LinePercent => LinesValid == 0 ? 0 : 100.0 * LinesCovered / LinesValid;

    public double? BranchPercent => BranchesValid == 0 ? null : 100.0 * BranchesCovered / BranchesValid;
}

public enum FindingSeverity
{
    None,
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>One security or lint result: the rule, its severity, what it says and where.</summary>
public sealed record Finding(string RuleId, FindingSeverity Severity, string Level, string Message, string? Location, string Tool);

/// <summary>Findings of one or more SARIF files (suppressed and absent-from-baseline results left out).</summary>
public sealed record FindingSummary(ValueList<Finding> Findings, int Suppressed, ValueList<string> Files)
{
    public int Count(FindingSeverity severity) => Findings.Count(f => f.Severity == severity);
}
