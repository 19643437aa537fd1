using System.Globalization;
using Gantry.Core.Gates.Reports;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Gates;

/// <summary>What a gate decides. The CLI exits 0, 1 and 4 for them.</summary>
public enum GateDecision
{
    /// <summary>Every criterion passed (warnings allowed while the score reaches the pass threshold).</summary>
    Deploy,

    /// <summary>Only non-blocking criteria failed, or the score is under the pass threshold: fix, or override with approval.</summary>
    Remediate,

    /// <summary>A blocking or key criterion failed, or the score is under the warning threshold.</summary>
    Block,
}

public enum CriterionOutcome
{
    Pass,
    Warning,
    Fail,
}

/// <summary>One criterion's outcome with the values compared and a sentence saying why.</summary>
public sealed record CriterionResult(string Measure, CriterionOutcome Outcome, double? Value, double? Previous, bool Blocking, bool Key, string Sentence);

/// <summary>One category: its figures as a person reads them, its score (0-100), and its criteria. A missing optional category is left out.</summary>
public sealed record CategoryResult(string Name, double Weight, bool Missing, double Score, string Figures, ValueList<CriterionResult> Criteria);

/// <summary>
/// An evaluation of a gate for a release: the decision, the overall score, every category, the blocking
/// failures first, and the measured values (kept so the next evaluation can compare with them).
/// </summary>
public sealed record GateEvaluation(
    string Gate,
    string Service,
    string Version,
    GateDecision Decision,
    double Score,
    string Reason,
    ValueList<CategoryResult> Categories,
    ValueList<KeyValuePair<string, double>> Measures,
    DateTimeOffset At,
    string? PreviousVersion = null,
    GateOverride? Override = null,
    string? By = null)
{
    /// <summary>Whether the release may go where the gate is required: DEPLOY, or a REMEDIATE a person overrode.</summary>
    public bool LetsThrough => Decision == GateDecision.Deploy || (Decision == GateDecision.Remediate && Override is not null);

    /// <summary>The failed criteria, blocking and key ones first.</summary>
    public IReadOnlyList<FailedCriterion> Failures =>
        [.. Categories.SelectMany(c => c.Criteria.Where(r => r.Outcome == CriterionOutcome.Fail).Select(r => new FailedCriterion(c.Name, r)))
            .OrderBy(f => f.Criterion.Blocking || f.Criterion.Key ? 0 : 1)];

    /// <summary>The tests that failed or erred (the first <see cref="GateEvaluator.KeptFailures"/>), each with its suite, name, message and report file.</summary>
    public ValueList<TestFailure> FailedTests { get; init; } = [];

    public double? Measure(string key) => Measures.Where(m => m.Key == key).Select(m => (double?)m.Value).FirstOrDefault();
}

/// <summary>A criterion that failed, with its category.</summary>
public sealed record FailedCriterion(string Category, CriterionResult Criterion);

/// <summary>A person's decision to let a REMEDIATE release through anyway: who, why, when. A BLOCK cannot be overridden.</summary>
public sealed record GateOverride(string By, string Reason, DateTimeOffset At);

/// <summary>The reports of one build, read, and custom values from JSON files (by category name).</summary>
public sealed record GateInputs(TestSummary? Tests, CoverageSummary? Coverage, FindingSummary? Security, IReadOnlyDictionary<string, (double Value, string File)> Custom)
{
    public static GateInputs None { get; } = new(null, null, null, new Dictionary<string, (double, string)>());
}

/// <summary>
/// Evaluates a gate, Keptn style: each criterion passes (1), warns (0.5) or fails (0); a category's score is
/// the weighted mean of its criteria, the overall score the weighted mean of the categories. A category
/// without its report fails every criterion, unless it is optional. Comparisons with <c>previous</c> use
/// the previous evaluation of the same gate and service; with none, they pass and say so.
/// </summary>
public static class GateEvaluator
{
    /// <summary>How many failed tests an evaluation keeps to show.</summary>
    public const int KeptFailures = 100;

    public static GateEvaluation Evaluate(GateSpec gate, string service, string version, GateInputs inputs, GateEvaluation? previous, DateTimeOffset now)
    {
        var categories = new List<CategoryResult>();
        var measures = new List<KeyValuePair<string, double>>();
        foreach (var category in gate.Categories)
        {
            var (values, figures) = Values(category, inputs);
            if (values is null)
            {
                if (category.Optional)
                {
                    categories.Add(new CategoryResult(category.Name, category.Weight, true, 0, $"{figures} (optional: left out)", []));
                    continue;
                }

                categories.Add(new CategoryResult(category.Name, category.Weight, true, 0, figures,
                    [.. category.Criteria.Select(c => new CriterionResult(c.Measure, CriterionOutcome.Fail, null, null, c.Blocking, c.Key, $"{category.Name} {c.Measure}: {figures}, so it cannot pass"))]));
                continue;
            }

            foreach (var (key, value) in values)
            {
                measures.Add(new($"{category.Name}.{key}", value));
            }

            var results = category.Criteria.Select(c => Judge(category, c, values, previous)).ToList();
            var total = category.Criteria.Sum(c => c.Weight);
            var score = total <= 0 ? 100 : 100 * category.Criteria.Zip(results).Sum(p => p.First.Weight * Points(p.Second.Outcome)) / total;
            categories.Add(new CategoryResult(category.Name, category.Weight, false, score, figures, [.. results]));
        }

        var counted = categories.Where(c => !(c.Missing && c.Criteria.IsEmpty)).ToList();
        var weight = counted.Sum(c => c.Weight);
        var overall = weight <= 0 ? 100 : counted.Sum(c => c.Weight * c.Score) / weight;
        var failures = categories.SelectMany(c => c.Criteria.Where(r => r.Outcome == CriterionOutcome.Fail).Select(r => (c.Name, r))).ToList();
        var blocking = failures.Where(f => f.r.Blocking || f.r.Key).ToList();
        var (decision, reason) = blocking.Count > 0
            ? (GateDecision.Block, $"{Plural(blocking.Count, "blocking criterion", "blocking criteria")} failed: {string.Join("; ", blocking.Select(f => f.r.Sentence))}")
            : overall < gate.WarningScore
                ? (GateDecision.Block, string.Create(CultureInfo.InvariantCulture, $"score {overall:0.#} is under the warning threshold {gate.WarningScore:0.#}"))
                : failures.Count > 0
                    ? (GateDecision.Remediate, $"{Plural(failures.Count, "criterion", "criteria")} failed: {string.Join("; ", failures.Select(f => f.r.Sentence))}")
                    : overall < gate.PassScore
                        ? (GateDecision.Remediate, string.Create(CultureInfo.InvariantCulture, $"score {overall:0.#} is under the pass threshold {gate.PassScore:0.#}"))
                        : (GateDecision.Deploy, string.Create(CultureInfo.InvariantCulture, $"every criterion passed{(categories.Any(c => c.Criteria.Any(r => r.Outcome == CriterionOutcome.Warning)) ? " or warned" : string.Empty)}; score {overall:0.#}"));
        return new GateEvaluation(gate.Name, service, version, decision, overall, reason, [.. categories], [.. measures], now, previous?.Version)
        {
            FailedTests = [.. (inputs.Tests?.Failures ?? []).Take(KeptFailures)],
        };
    }

    private static double Points(CriterionOutcome outcome) => outcome switch
    {
        CriterionOutcome.Pass => 1,
        CriterionOutcome.Warning => 0.5,
        _ => 0,
    };

    private static string Plural(int n, string one, string many) => n == 1 ? $"1 {one}" : string.Create(CultureInfo.InvariantCulture, $"{n} {many}");

    private static CriterionResult Judge(GateCategory category, GateCriterion criterion, Dictionary<string, double> values, GateEvaluation? previous)
    {
        var kind = category.Kind == GateCategoryKind.Custom ? QuantityKind.Number : KindOf(criterion.Measure);
        var name = $"{category.Name} {criterion.Measure}";
        if (!values.TryGetValue(criterion.Measure, out var value) || !double.IsFinite(value))
        {
            return new CriterionResult(criterion.Measure, CriterionOutcome.Fail, null, null, criterion.Blocking, criterion.Key, $"{name}: not measured ({Why(category, criterion.Measure)}), so it cannot pass");
        }

        // The previous value matters (and is shown) only to a criterion that compares with it.
        var compares = criterion.FailWhen?.UsesBaseline == true || criterion.WarnWhen?.UsesBaseline == true;
        var before = compares ? previous?.Measure($"{category.Name}.{criterion.Measure}") : null;
        var shown = before is { } b
            ? $"{name}: {Format(value, kind)} vs previous {Format(b, kind)} ({Change(value - b, kind)})"
            : $"{name}: {Format(value, kind)}";
        foreach (var (condition, outcome, verb) in new[] { (criterion.FailWhen, CriterionOutcome.Fail, "fails"), (criterion.WarnWhen, CriterionOutcome.Warning, "warns") })
        {
            if (condition is null)
            {
                continue;
            }

            if (condition.UsesBaseline && before is null)
            {
                continue;
            }

            if (condition.IsMetBy(value, before))
            {
                return new CriterionResult(criterion.Measure, outcome, value, before, criterion.Blocking, criterion.Key, $"{shown} {verb} when {condition}");
            }
        }

        var uncompared = compares && before is null ? " (no previous evaluation to compare with)" : string.Empty;
        return new CriterionResult(criterion.Measure, CriterionOutcome.Pass, value, before, criterion.Blocking, criterion.Key, $"{shown} passes{uncompared}");
    }

    private static string Why(GateCategory category, string measure) => (category.Kind, measure) switch
    {
        (GateCategoryKind.Tests, "passRate") => "no test ran",
        (GateCategoryKind.Coverage, "branches") => "the coverage report has no branches",
        _ => "no value",
    };

    private static QuantityKind KindOf(string measure) => measure is "passRate" or "lines" or "branches" ? QuantityKind.Ratio : QuantityKind.Number;

    private static string Format(double value, QuantityKind kind) => kind == QuantityKind.Ratio
        ? string.Create(CultureInfo.InvariantCulture, $"{value * 100:0.0#}%")
        : value.ToString("#,0.##", CultureInfo.InvariantCulture);

    private static string Change(double delta, QuantityKind kind) => kind == QuantityKind.Ratio
        ? string.Create(CultureInfo.InvariantCulture, $"{(delta >= 0 ? "+" : string.Empty)}{delta * 100:0.0#} points")
        : string.Create(CultureInfo.InvariantCulture, $"{(delta >= 0 ? "+" : string.Empty)}{delta:#,0.##}");

    /// <summary>A category's measures (null when its report is missing) and its figures as a person reads them.</summary>
    private static (Dictionary<string, double>? Values, string Figures) Values(GateCategory category, GateInputs inputs)
    {
        switch (category.Kind)
        {
            case GateCategoryKind.Tests when inputs.Tests is { } t:
                var values = new Dictionary<string, double>(StringComparer.Ordinal)
                {
                    ["total"] = t.Total,
                    ["passed"] = t.Passed,
                    ["failed"] = t.Failed + t.Errors,
                    ["skipped"] = t.Skipped,
                };
                if (t.Executed > 0)
                {
                    values["passRate"] = (double)t.Passed / t.Executed;
                }

                return (values, string.Create(CultureInfo.InvariantCulture,
                    $"{t.Total:#,0} tests: {t.Passed:#,0} passed, {t.Failed + t.Errors:#,0} failed{(t.Errors > 0 ? $" ({t.Errors:#,0} with errors)" : string.Empty)}, {t.Skipped:#,0} skipped{(t.Flaky > 0 ? $", {t.Flaky:#,0} flaky" : string.Empty)}, {t.Duration.TotalSeconds:0.#} s, from {Files(t.Files)}"));
            case GateCategoryKind.Coverage when inputs.Coverage is { } c:
                var coverage = new Dictionary<string, double>(StringComparer.Ordinal);
                if (c.LinesValid > 0)
                {
                    coverage["lines"] = (double)c.LinesCovered / c.LinesValid;
                }

                if (c.BranchesValid > 0)
                {
                    coverage["branches"] = (double)c.BranchesCovered / c.BranchesValid;
                }

                return (coverage, string.Create(CultureInfo.InvariantCulture,
                    $"lines {c.LinePercent:0.0#}% ({c.LinesCovered:#,0}/{c.LinesValid:#,0}){(c.BranchPercent is { } bp ? $", branches {bp:0.0#}% ({c.BranchesCovered:#,0}/{c.BranchesValid:#,0})" : string.Empty)}{(c.SourceFiles > 0 ? $", {c.SourceFiles:#,0} source file{(c.SourceFiles == 1 ? string.Empty : "s")}" : string.Empty)}, from {Files(c.Files)}"));
            case GateCategoryKind.Security when inputs.Security is { } s:
                var counts = new Dictionary<string, double>(StringComparer.Ordinal)
                {
                    ["critical"] = s.Count(FindingSeverity.Critical),
                    ["high"] = s.Count(FindingSeverity.High),
                    ["medium"] = s.Count(FindingSeverity.Medium),
                    ["low"] = s.Count(FindingSeverity.Low),
                    ["total"] = s.Findings.Length,
                };
                return (counts, string.Create(CultureInfo.InvariantCulture,
                    $"{s.Findings.Length:#,0} finding{(s.Findings.Length == 1 ? string.Empty : "s")}: {counts["critical"]} critical, {counts["high"]} high, {counts["medium"]} medium, {counts["low"]} low{(s.Suppressed > 0 ? $" ({s.Suppressed:#,0} suppressed)" : string.Empty)}, from {Files(s.Files)}"));
            case GateCategoryKind.Custom when inputs.Custom.TryGetValue(category.Name, out var custom):
                return (new Dictionary<string, double>(StringComparer.Ordinal) { ["value"] = custom.Value },
                    string.Create(CultureInfo.InvariantCulture, $"value {custom.Value:#,0.###} ({category.JsonPath} of {custom.File})"));
            default:
                return (null, category.Kind switch
                {
                    GateCategoryKind.Tests => "no test report given (--junit or --trx)",
                    GateCategoryKind.Coverage => "no coverage report given (--coverage)",
                    GateCategoryKind.Security => "no SARIF report given (--sarif)",
                    _ => $"no JSON file given (--json {category.Name}=FILE)",
                });
        }
    }

    private static string Files(ValueList<string> files) => files.Length switch
    {
        0 => "no file",
        1 => files[0],
        _ => string.Create(CultureInfo.InvariantCulture, $"{files.Length} files"),
    };
}
