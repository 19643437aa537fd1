using Gantry.Core.Analysis;
using Gantry.Server.Analysis;

namespace Gantry.Server.Tests.Analysis;

/// <summary>The sentence a run's verdict carries: what decided it, and failures a metric's limit tolerated said as such.</summary>
public sealed class AnalysisExplanationTests
{
    private static MetricResult Metric(AnalysisPhase phase, int count, int failed, params string[] sentences) =>
        new("error-rate", false, phase, count, count - failed, failed, 0, 0, 0, 0, [.. sentences.Select((s, i) => new MetricMeasurement(DateTimeOffset.UnixEpoch.AddSeconds(i), AnalysisPhase.Successful, null, null, s))]);

    [Fact(Timeout = 10_000)]
    public void Passed_WithAFailureWithinTheLimit_SaysItWasTolerated()
    {
        var metric = Metric(AnalysisPhase.Successful, 2, 1, "error-rate: 0.40% is within 5%", "error-rate: 45.00% exceeds 5%");
        AnalysisRuns.Explain(AnalysisPhase.Successful, [metric], []).Should().Be("error-rate: 45.00% exceeds 5% (1 of 2 measurements failed, within the failure limit)");
    }

    [Fact(Timeout = 10_000)]
    public void Passed_WithoutFailures_IsTheLastSentence_AndFailed_NamesTheCount()
    {
        AnalysisRuns.Explain(AnalysisPhase.Successful, [Metric(AnalysisPhase.Successful, 2, 0, "a", "error-rate: 0.10% is within 5%")], []).Should().Be("error-rate: 0.10% is within 5%");
        AnalysisRuns.Explain(AnalysisPhase.Failed, [Metric(AnalysisPhase.Failed, 3, 2, "error-rate: 45.00% exceeds 5%")], []).Should().Be("error-rate: 45.00% exceeds 5% (2 of 3 measurements failed)");
    }
}
