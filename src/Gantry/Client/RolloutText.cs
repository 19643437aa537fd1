using System.Globalization;
using System.Text;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Gantry.Client;

/// <summary>How a rollout is shown: plain text for logs and pipes, a Spectre.Console view for a terminal.</summary>
internal static class RolloutText
{
    public static string Headline(RolloutState r)
    {
        var what = r.Strategy switch
        {
            StrategyKind.Initial => "first release",
            StrategyKind.Rollback => $"rollback from {r.PreviousVersion}",
            StrategyKind.BlueGreen => $"blue-green from {r.PreviousVersion}",
            StrategyKind.Rolling => $"rolling from {r.PreviousVersion}",
            _ => $"canary from {r.PreviousVersion}",
        };
        return $"{(r.Emergency ? "EMERGENCY " : string.Empty)}rollout {r.Id}: {r.Service} {r.Release.Version} ({what}) in {r.Environment}: {r.Phase}"
            + (r.Emergency ? $"\n  emergency deploy by {r.CreatedBy}: {r.EmergencyReason}" : string.Empty);
    }

    /// <summary>Where a rollout's approval stands, and what the caller can do about it.</summary>
    public static string Approval(ApprovalView a)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"  approval: {a.Status?.Message ?? "not required"}");
        foreach (var d in a.Decisions)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {d.Describe()}");
        }

        if (a.Waiting)
        {
            text.AppendLine(a.CanDecide
                ? $"    you can approve it: gantry approve {a.RolloutId} --comment TEXT (or gantry reject {a.RolloutId} --comment TEXT)"
                : $"    you cannot approve it: {a.CannotDecide}");
        }

        return text.ToString();
    }

    /// <summary>A wait reason as a person reads it.</summary>
    public static string Wait(WaitReason reason) => reason switch
    {
        WaitReason.PausedByPerson => "a person to resume it (paused)",
        WaitReason.HeldByFreeze => "the end of the freeze",
        WaitReason.AwaitingChecklist => "its pre-deployment checklist",
        WaitReason.AwaitingApproval => "approval",
        WaitReason.InconclusiveAnalysis => "a person (analysis inconclusive: resume or abort)",
        WaitReason.FailedAnalysisHeld => "a person (analysis failed, held: resume or abort)",
        _ => "promotion (gantry promote)",
    };

    private static string Words(string name) => string.Concat(name.Select((ch, i) => i > 0 && char.IsUpper(ch) ? " " + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));

    public static string Split(RolloutView view) =>
        view.Traffic.Count == 0 ? "no traffic" : string.Join(", ", view.Traffic.Select(t => string.Create(CultureInfo.InvariantCulture,
            $"{t.Version}{(t.Role == "baseline" ? "~baseline" : string.Empty)} {t.Weight}% ({t.Ready}/{t.Replicas} ready)")));

    /// <summary>The whole view as plain text.</summary>
    public static string Plain(RolloutView view)
    {
        var r = view.Rollout;
        var text = new StringBuilder();
        text.AppendLine(Headline(r));
        text.AppendLine(CultureInfo.InvariantCulture, $"  {r.Message}");
        if (!r.Waits.IsEmpty && !r.Phase.IsTerminal())
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  waits for: {string.Join(", ", r.Waits.Select(Wait))}");
        }

        if (r.Stage is { } stage && !r.Phase.IsTerminal())
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  stage: {Words(stage.ToString())}");
        }

        if (view.Steps.Count > 0)
        {
            text.AppendLine("  steps:");
            foreach (var step in view.Steps)
            {
                var mark = step.Status switch { "done" => "done", "current" => "  >>", _ => "    " };
                text.AppendLine(CultureInfo.InvariantCulture, $"    {mark} {step.Index}. {step.Text}");
            }
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  traffic: {Split(view)}");
        if (r.Traffic.HeaderRoute.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  header route: {string.Join(" and ", r.Traffic.HeaderRoute.Select(m => $"{m.Name} {m.Kind.ToString().ToLowerInvariant()} '{m.Value}'"))} -> {r.Release.Version}");
        }

        if (r.Traffic.MirrorPercent > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  mirror: {r.Traffic.MirrorPercent}% of requests copied to {r.Release.Version}");
        }

        text.AppendLine("  instances:");
        var width = view.Instances.Select(i => i.Id.Length).DefaultIfEmpty(0).Max();
        foreach (var i in view.Instances)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {i.Id.PadRight(Math.Max(28, width))} {i.Version,-10} {i.Address,-21} {i.Phase,-9} restarts {i.Restarts}{(i.LastError is null ? string.Empty : "  " + i.LastError)}");
        }

        foreach (var a in new[] { view.Analysis, view.Background }.OfType<Core.Analysis.AnalysisRunRecord>())
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  analysis {string.Join(", ", a.Templates)} ({a.Purpose}): {a.Phase}: {a.Message}");
        }

        if (r.InWatch)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  watching until {r.WatchUntil!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC; {r.PreviousVersion} kept running out of traffic");
        }

        Jobs(text, r);
        return text.ToString();
    }

    /// <summary>Every job the rollout ran (the last lines of each) and the ones it waits for.</summary>
    private static void Jobs(StringBuilder text, RolloutState r)
    {
        if (r.Jobs.IsEmpty && r.Job is null)
        {
            return;
        }

        text.AppendLine("  jobs:");
        foreach (var j in r.Jobs)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {(j.Succeeded ? "✔" : "✘")} {j.Name} ({Core.Manifest.JobHooks.ManifestName(j.Hook)}, attempt {j.Attempt}): {j.Summary}");
            // The answer came escaped for the terminal (TerminalText): its line breaks are visible escapes, one line each here.
            foreach (var line in j.Output.Split("\\n").Where(l => l.Length > 0).TakeLast(5))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"        {line}");
            }
        }

        if (r.Job is { } running)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    ▶ {string.Join(", ", running.Names)} running");
        }
    }

    /// <summary>The view for a live terminal: steps with the current one marked, a bar for the split, instances, analysis.</summary>
    public static IRenderable Live(RolloutView view)
    {
        var r = view.Rollout;
        var color = r.Phase switch
        {
            RolloutPhase.Succeeded => "green",
            RolloutPhase.Aborted or RolloutPhase.Failed or RolloutPhase.RolledBack => "red",
            RolloutPhase.Paused => "yellow",
            _ => "blue",
        };
        var rows = new List<IRenderable>
        {
            new Markup($"[bold]{Markup.Escape(Headline(r)[..^r.Phase.ToString().Length])}[/][{color}]{r.Phase}[/]"),
            new Markup($"  {Markup.Escape(r.Message)}"),
        };
        if (view.Steps.Count > 0)
        {
            foreach (var step in view.Steps)
            {
                var (mark, style) = step.Status switch { "done" => ("✔", "green"), "current" => ("▶", "bold yellow"), _ => ("·", "grey") };
                rows.Add(new Markup($"  [{style}]{mark} {step.Index}. {Markup.Escape(step.Text)}[/]"));
            }
        }

        if (view.Traffic.Count > 0 && view.Traffic.Sum(t => t.Weight) > 0)
        {
            var chart = new BreakdownChart().Width(60).ShowPercentage();
            var palette = new[] { Color.Blue, Color.Orange1, Color.Green, Color.Purple };
            var n = 0;
            foreach (var t in view.Traffic.Where(t => t.Weight > 0))
            {
                chart.AddItem($"{t.Version} ({t.Role})", t.Weight, palette[n++ % palette.Length]);
            }

            rows.Add(new Padder(chart, new Padding(2, 0, 0, 0)));
        }

        var table = new Table().Border(TableBorder.Simple).AddColumns("instance", "version", "address", "health", "restarts");
        foreach (var i in view.Instances)
        {
            var health = i.Phase switch { Core.Runtime.InstancePhase.Ready => "[green]Ready[/]", Core.Runtime.InstancePhase.Crashed => "[red]Crashed[/]", Core.Runtime.InstancePhase.Failed => "[red]Failed[/]", _ => $"[yellow]{i.Phase}[/]" };
            table.AddRow(Markup.Escape(i.Id), Markup.Escape(i.Version), i.Address.ToString(), health, i.Restarts.ToString(CultureInfo.InvariantCulture));
        }

        rows.Add(table);
        foreach (var a in new[] { view.Analysis, view.Background }.OfType<Core.Analysis.AnalysisRunRecord>())
        {
            rows.Add(new Markup($"  analysis {Markup.Escape(string.Join(", ", a.Templates))} ({Markup.Escape(a.Purpose)}): [bold]{a.Phase}[/] {Markup.Escape(a.Message)}"));
        }

        return new Rows(rows);
    }

    /// <summary>Every analysis run of a rollout: its verdict, then each metric's measurements with their sentences.</summary>
    public static string Analysis(IReadOnlyList<Core.Analysis.AnalysisRunRecord> runs)
    {
        var text = new StringBuilder();
        foreach (var run in runs)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"analysis {string.Join(", ", run.Templates)} ({run.Purpose}), {run.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC: {run.Phase}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  {run.Message}");
            foreach (var metric in run.Metrics)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"  {metric.Name}{(metric.DryRun ? " (dry run)" : string.Empty)}: {metric.Phase}, {metric.Count} measured: {metric.Successful} passed, {metric.Failed} failed, {metric.Inconclusive} inconclusive, {metric.Errors} errors");
                foreach (var m in metric.Measurements)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"    {m.At.UtcDateTime:HH:mm:ss} {m.Phase,-12} {m.Sentence}");
                }
            }

            foreach (var (judgement, i) in run.Judgements.Select((j, i) => (j, i + 1)))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  judgement {i}: {judgement.Summary}");
            }
        }

        return text.ToString().TrimEnd();
    }

    public static string Event(StoredEvent e) =>
        string.Create(CultureInfo.InvariantCulture, $"{e.Time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {e.RolloutId} {e.Type}: {e.Message}");
}
