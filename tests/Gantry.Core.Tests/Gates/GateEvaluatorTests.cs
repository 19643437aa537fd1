using Gantry.Core.Gates;
using Gantry.Core.Gates.Reports;
using Gantry.Core.Manifest;

namespace Gantry.Core.Tests.Gates;

public sealed class GateEvaluatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private const string Policy = """
        version: 1
        services:
          web: { process: { command: app }, listen: 127.0.0.1:8080 }
        gates:
          release:
            categories:
              tests:
                weight: 2
                criteria:
                  - { measure: failed, failWhen: "> 0", blocking: true }
                  - { measure: total, failWhen: "== 0", key: true }
              coverage:
                criteria:
                  - { measure: lines, warnWhen: "< 80%" }
                  - { measure: lines, warnWhen: "< previous - 2%" }
              security:
                criteria:
                  - { measure: critical, failWhen: "> 0", blocking: true }
                  - { measure: high, failWhen: "> 0" }
              performance:
                optional: true
                jsonPath: $.p95
                criteria:
                  - { measure: value, failWhen: "> 200" }
        """;

    private static GateSpec Gate(string text = Policy)
    {
        var loaded = ManifestLoader.LoadText(text);
        return loaded.Manifest?.Gates[0] ?? throw new InvalidOperationException(string.Join("\n", loaded.Diagnostics));
    }

    private static TestSummary Tests(int passed, int failed = 0) =>
        new(passed + failed, passed, failed, 0, 0, 0, TimeSpan.FromSeconds(3), [.. Enumerable.Range(0, failed).Select(i => new TestFailure($"t{i}", "Suite", TestOutcome.Failed, "boom", "junit.xml"))], ["junit.xml"]);

    private static CoverageSummary Coverage(int covered, int valid = 1000) => new(covered, valid, 0, 0, ["cov.xml"]);

    private static FindingSummary Findings(params FindingSeverity[] severities) =>
        new([.. severities.Select(s => new Finding("rule", s, "error", "bad", null, "scanner"))], 0, ["scan.sarif"]);

    private static GateInputs Inputs(TestSummary? tests, CoverageSummary? coverage, FindingSummary? security, double? p95 = null) =>
        new(tests, coverage, security, p95 is { } v ? new Dictionary<string, (double, string)> { ["performance"] = (v, "perf.json") } : new Dictionary<string, (double, string)>());

    [Fact(Timeout = 10_000)]
    public void Evaluate_EverythingPasses_Deploys()
    {
        var e = GateEvaluator.Evaluate(Gate(), "web", "2.0", Inputs(Tests(120), Coverage(850), Findings(FindingSeverity.Low), 150), null, Now);
        e.Decision.Should().Be(GateDecision.Deploy);
        e.Score.Should().Be(100);
        e.Reason.Should().Be("every criterion passed; score 100");
        e.Categories.Single(c => c.Name == "tests").Figures.Should().Be("120 tests: 120 passed, 0 failed, 0 skipped, 3 s, from junit.xml");
        e.Categories.Single(c => c.Name == "coverage").Criteria[1].Sentence.Should().Be("coverage lines: 85.0% passes (no previous evaluation to compare with)");
        e.Measure("coverage.lines").Should().Be(0.85);
    }

    [Fact(Timeout = 10_000)]
    public void Evaluate_AFailedTest_BlocksAndSaysWhichCriterion()
    {
        var e = GateEvaluator.Evaluate(Gate(), "web", "2.0", Inputs(Tests(119, 1), Coverage(850), Findings(), null), null, Now);
        e.Decision.Should().Be(GateDecision.Block);
        e.Reason.Should().Be("1 blocking criterion failed: tests failed: 1 fails when > 0");
        e.Failures.Select(f => f.Category).Should().Equal("tests");
    }

    [Fact(Timeout = 10_000)]
    public void Evaluate_OnlyANonBlockingFailure_AsksForRemediation()
    {
        var e = GateEvaluator.Evaluate(Gate(), "web", "2.0", Inputs(Tests(120), Coverage(850), Findings(FindingSeverity.High), null), null, Now);
        e.Decision.Should().Be(GateDecision.Remediate);
        e.Reason.Should().Be("1 criterion failed: security high: 1 fails when > 0");
        e.Categories.Single(c => c.Name == "security").Score.Should().Be(50);
    }

    [Fact(Timeout = 10_000)]
    public void Evaluate_CoverageUnder80_WarnsAndStillDeploysAboveThePassScore()
    {
        var e = GateEvaluator.Evaluate(Gate(), "web", "2.0", Inputs(Tests(120), Coverage(760), Findings(), null), null, Now);
        e.Categories.Single(c => c.Name == "coverage").Criteria[0].Should().Match<CriterionResult>(r => r.Outcome == CriterionOutcome.Warning && r.Sentence == "coverage lines: 76.0% warns when < 80%");
        e.Score.Should().BeApproximately(100 * (2 + 0.75 + 1) / 4.0, 1e-9, "tests weigh 2; coverage scores 75 with one of two criteria warning");
        e.Decision.Should().Be(GateDecision.Deploy);
        e.Reason.Should().Be("every criterion passed or warned; score 93.8");
    }

    [Fact(Timeout = 10_000)]
    public void Evaluate_CoverageFallingMoreThanTwoPointsFromThePrevious_Warns()
    {
        var previous = GateEvaluator.Evaluate(Gate(), "web", "1.9", Inputs(Tests(120), Coverage(900), Findings(), null), null, Now.AddDays(-1));
        var e = GateEvaluator.Evaluate(Gate(), "web", "2.0", Inputs(Tests(120), Coverage(870), Findings(), null), previous, Now);
        var criterion = e.Categories.Single(c => c.Name == "coverage").Criteria[1];
        criterion.Outcome.Should().Be(CriterionOutcome.Warning);
        criterion.Sentence.Should().Be("coverage lines: 87.0% vs previous 90.0% (-3.0 points) warns when < previous - 2%");
        e.PreviousVersion.Should().Be("1.9");

        var steady = GateEvaluator.Evaluate(Gate(), "web", "2.0", Inputs(Tests(120), Coverage(890), Findings(), null), previous, Now);
        steady.Categories.Single(c => c.Name == "coverage").Criteria[1].Outcome.Should().Be(CriterionOutcome.Pass, "1 point down is allowed");
    }

    [Fact(Timeout = 10_000)]
    public void Evaluate_MissingReport_FailsItsCategoryAndOptionalOnesAreLeftOut()
    {
        var e = GateEvaluator.Evaluate(Gate(), "web", "2.0", Inputs(Tests(120), Coverage(850), null, null), null, Now);
        e.Decision.Should().Be(GateDecision.Block, "no SARIF report means the critical-findings criterion cannot pass");
        var security = e.Categories.Single(c => c.Name == "security");
        security.Missing.Should().BeTrue();
        security.Criteria.Should().OnlyContain(r => r.Outcome == CriterionOutcome.Fail);
        security.Criteria[0].Sentence.Should().Be("security critical: no SARIF report given (--sarif), so it cannot pass");

        var performance = e.Categories.Single(c => c.Name == "performance");
        performance.Should().Match<CategoryResult>(c => c.Missing && c.Criteria.IsEmpty && c.Figures == "no JSON file given (--json performance=FILE) (optional: left out)");
    }

    [Fact(Timeout = 10_000)]
    public void Evaluate_KeyCriterionFails_BlocksWhateverTheScore()
    {
        var e = GateEvaluator.Evaluate(Gate(), "web", "2.0", Inputs(Tests(0), Coverage(850), Findings(), null), null, Now);
        e.Decision.Should().Be(GateDecision.Block);
        e.Reason.Should().Be("1 blocking criterion failed: tests total: 0 fails when == 0");
    }

    [Fact(Timeout = 10_000)]
    public void Evaluate_ScoreUnderTheThresholds_RemediatesThenBlocks()
    {
        var text = """
            version: 1
            services:
              web: { process: { command: app }, listen: 127.0.0.1:8080 }
            gates:
              lint:
                score: { pass: 90%, warning: 60% }
                categories:
                  security:
                    criteria:
                      - { measure: medium, warnWhen: "> 0" }
                      - { measure: low, warnWhen: "> 0" }
            """;
        var one = GateEvaluator.Evaluate(Gate(text), "web", "2.0", Inputs(null, null, Findings(FindingSeverity.Medium)), null, Now);
        (one.Decision, one.Score, one.Reason).Should().Be((GateDecision.Remediate, 75.0, "score 75 is under the pass threshold 90"));
        var both = GateEvaluator.Evaluate(Gate(text), "web", "2.0", Inputs(null, null, Findings(FindingSeverity.Medium, FindingSeverity.Low)), null, Now);
        (both.Decision, both.Score, both.Reason).Should().Be((GateDecision.Block, 50.0, "score 50 is under the warning threshold 60"));
    }

    [Fact(Timeout = 10_000)]
    public void Evaluate_CustomJsonValue_IsJudgedLikeAnyMeasure()
    {
        var e = GateEvaluator.Evaluate(Gate(), "web", "2.0", Inputs(Tests(120), Coverage(850), Findings(), 250), null, Now);
        e.Decision.Should().Be(GateDecision.Remediate);
        e.Categories.Single(c => c.Name == "performance").Figures.Should().Be("value 250 ($.p95 of perf.json)");
        e.Reason.Should().Be("1 criterion failed: performance value: 250 fails when > 200");
    }
}
