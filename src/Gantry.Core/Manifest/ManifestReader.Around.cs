using System.Collections.Immutable;
using Gantry.Core.Manifest.Schema;

namespace Gantry.Core.Manifest;

/// <summary>Reading what runs around a service's rollouts: its jobs at hook points and its watch after promotion.</summary>
internal sealed partial class ManifestReader
{
    /// <summary>What a job's image may name: the release's version, the service and the environment.</summary>
    private static readonly ImmutableArray<string> JobImagePlaceholders = ["version", "service", "environment"];

    private ImmutableArray<JobSpec> ReadJobs(MapReader m) =>
        ReadNamed(m, "jobs", "job", ServiceShapes.Job, (name, j, _) =>
        {
            var args = j.ScalarList<string>("args");
            var at = j.Enum<JobHook>("at");
            var image = j.String("image");
            if (image is not null)
            {
                CheckPlaceholders(j.Lookup("image")!.Value, JobImagePlaceholders, "'image'");
            }

            if (args.IsEmpty && image is null && !j.Has("args"))
            {
                ctx.Error(j.Node.Start, $"job '{name}' needs 'args' (a command) or 'image' (a container)");
            }

            if (image is not null && j.Bool("shell") == true)
            {
                ctx.Error(j.PositionOf("shell"), $"job '{name}' runs a container: 'shell' is for commands (give the container's own shell in 'args')");
            }

            return (args.IsEmpty && image is null) || at is null
                ? null
                : new JobSpec(name, at.Value, args, j.Bool("shell") ?? false, ReadStringMap(j, "env", "environment variable", null), Positive(j, "timeout") ?? JobSpec.DefaultTimeout, j.Int("retries") ?? 0, image);
        });

    private WatchSpec? ReadWatch(MapReader m, string service)
    {
        if (m.Object("watch", $"watch of service '{service}'") is not { } w)
        {
            return null;
        }

        var length = Positive(w, "for");
        var names = w.ScalarList<string>("templates");
        for (var i = 0; i < names.Length; i++)
        {
            templateRefs.Add((names[i], ctx.Positions.Find($"{w.Child("templates")}[{i}]") ?? w.Node.Start));
        }

        var onFailure = w.Enum<WatchFailureAction>("onFailure") ?? WatchFailureAction.Rollback;
        return length is { } l ? new WatchSpec(l, names, onFailure) : null;
    }

    private ImmutableArray<SloSpec> ReadSlos(MapReader m) =>
        ReadNamed(m, "slos", "objective", ServiceShapes.Slo, (name, o, _) =>
        {
            var sli = o.Enum<SliKind>("sli") ?? SliKind.Availability;
            var objective = o.Percent("objective");
            var threshold = Positive(o, "threshold");
            if (sli == SliKind.Latency && threshold is null && !o.Has("threshold"))
            {
                ctx.Error(o.Node.Start, $"objective '{name}' counts requests answered in time: give its 'threshold' (such as 300ms)");
            }

            if (objective is { Percent: <= 0 or >= 100 } bad)
            {
                ctx.Error(o.PositionOf("objective"), $"'objective' must be above 0% and below 100% (an objective of 100% leaves no error budget), got {bad.Percent}%");
            }

            var severity = o.Enum<Incidents.Severity>("severity") ?? Incidents.Severity.P2;
            var alerts = o.Has("alerts")
                ? o.List("alerts", (node, i, path) => MapReader.Open(ctx, node, ServiceShapes.BurnRateAlert, $"alert {i + 1} of objective '{name}'", path, $"alert {i + 1}") is { } a ? ReadBurnRateAlert(a, severity) : null)
                : SloSpec.DefaultAlerts(severity);
            var period = Positive(o, "period") ?? TimeSpan.FromDays(30);
            return objective is { Percent: > 0 and < 100 } p ? new SloSpec(name, sli, p.Fraction, period, threshold, alerts, Positive(o, "rollbackWithin")) : null;
        });

    private BurnRateAlert? ReadBurnRateAlert(MapReader a, Incidents.Severity severity)
    {
        var (longWindow, shortWindow, rate) = (Positive(a, "long"), Positive(a, "short"), a.Number("burnRate"));
        var level = a.Enum<Incidents.Severity>("severity") ?? severity;
        if (longWindow is null || shortWindow is null || rate is null)
        {
            return null;
        }

        if (shortWindow >= longWindow)
        {
            ctx.Error(a.PositionOf("short"), "the short window must be shorter than the long one (the workbook's is a twelfth of it)");
            return null;
        }

        return new BurnRateAlert(longWindow.Value, shortWindow.Value, rate.Value, level);
    }
}
