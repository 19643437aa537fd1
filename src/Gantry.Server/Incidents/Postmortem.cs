using System.Globalization;
using System.Text;
using Gantry.Core.Dora;

namespace Gantry.Server.Incidents;

/// <summary>
/// A Markdown post-mortem skeleton: the facts Gantry knows filled in (summary, timeline, the verdict and its
/// evidence, DORA metrics of the service in the 30 days before), the parts only people know left as headings.
/// </summary>
public static class Postmortem
{
    public static async Task<string> WriteAsync(IncidentView view, IRolloutStore rollouts, Core.Analysis.IAnalysisStore analysis, IDoraStore dora, TimeProvider time, CancellationToken ct)
    {
        var i = view.Incident;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Post-mortem: {i.Key} {i.Title}");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("| --- | --- |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Severity | {i.Severity} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Status | {i.Status.ToString().ToLowerInvariant()} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Service | {(i.Service is null ? "not given" : $"{i.Service} in {i.Environment}")} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Opened | {Time(i.OpenedAt)} by {i.OpenedBy} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Acknowledged | {(i.AcknowledgedAt is { } a ? $"{Time(a)} by {i.AcknowledgedBy} ({Span(a - i.OpenedAt)} after opening)" : "no")} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Mitigated | {(i.MitigatedAt is { } m ? $"{Time(m)} by {i.MitigatedBy}" : "no")} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Resolved | {(i.ResolvedAt is { } r ? $"{Time(r)} by {i.ResolvedBy}; time to restore {Span(r - i.OpenedAt)}" : "not yet")} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Targets | {view.Targets} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Impact | {i.Impact ?? "to be written"} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Root-cause release | {(i.CauseVersion is null ? "to be determined" : $"{i.Service} {i.CauseVersion}" + (i.RolloutId is null ? string.Empty : $" (rollout {i.RolloutId})"))} |");
        md.AppendLine();
        md.AppendLine("## Summary");
        md.AppendLine();
        md.AppendLine("_What happened, in two or three sentences._");
        md.AppendLine();
        md.AppendLine("## Timeline (UTC)");
        md.AppendLine();
        md.AppendLine("| Time | Who | What |");
        md.AppendLine("| --- | --- | --- |");
        foreach (var e in view.Timeline)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {Time(e.At)} | {e.By} | {Cell(e.Text)} |");
        }

        if (i.RolloutId is { } id && await rollouts.GetAsync(id, ct) is { } rollout)
        {
            md.AppendLine();
            md.AppendLine("## The rollout and its verdict");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Rollout {rollout.Id}: {rollout.Service} {rollout.Release.Version} ({rollout.Strategy}) to {rollout.Environment}, created {Time(rollout.CreatedAt)} by {rollout.CreatedBy}, ended {rollout.Phase}: {rollout.Message}");
            var runs = await analysis.AnalysisAsync(id, ct);
            foreach (var run in runs)
            {
                md.AppendLine();
                md.AppendLine(CultureInfo.InvariantCulture, $"- analysis {string.Join(", ", run.Templates)} ({run.Purpose}): **{run.Phase}**: {run.Message}");
                foreach (var metric in run.Metrics)
                {
                    foreach (var measurement in metric.Measurements.TakeLast(5))
                    {
                        md.AppendLine(CultureInfo.InvariantCulture, $"  - {metric.Name} at {Time(measurement.At)}: {measurement.Phase}: {measurement.Sentence}");
                    }
                }
            }
        }

        if (i.Service is not null)
        {
            var to = i.OpenedAt;
            var from = to - TimeSpan.FromDays(30);
            var (facts, restores) = await dora.DoraFactsAsync(i.Service, i.Environment, from, to, ct);
            var report = DoraMetrics.Compute(i.Service, i.Environment, from, to, facts, restores);
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"## Delivery metrics of {i.Service} in {i.Environment}, 30 days before the incident");
            md.AppendLine();
            md.AppendLine("| Metric | Value | Band |");
            md.AppendLine("| --- | --- | --- |");
            foreach (var (name, metric) in new[] { ("Deployment frequency", report.DeploymentFrequency), ("Lead time (median)", report.LeadTimeMedian), ("Change failure rate", report.ChangeFailureRate), ("Time to restore (median)", report.TimeToRestore) })
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {Cell(metric.Text)} | {metric.Band?.ToString() ?? "no data"} |");
            }

            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Bands from the {report.BandsFrom}.");
        }

        foreach (var heading in new[] { "Root cause", "What went well", "What went wrong", "Action items" })
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"## {heading}");
            md.AppendLine();
            md.AppendLine("_To be written._");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"_Generated by Gantry at {Time(time.GetUtcNow())}._");
        return md.ToString();
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Span(TimeSpan t) => Core.Manifest.Values.DurationSyntax.Format(TimeSpan.FromSeconds(Math.Round(t.TotalSeconds)));

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
