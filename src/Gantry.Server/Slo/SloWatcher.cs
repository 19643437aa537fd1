using System.Collections.Concurrent;
using System.Globalization;
using Gantry.Core.Audit;
using Gantry.Core.Incidents;
using Gantry.Core.Runtime;
using Gantry.Core.Slo;
using Gantry.Proxy.Metrics;
using Gantry.Server.Incidents;
using Gantry.Server.Reconciler;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Slo;

/// <summary>
/// Standing objectives of running services: at every look, the requests each service's route answered since the last
/// look (all its releases), good and bad, go into the objective's ledger; a burn-rate alert that starts firing raises
/// an alert (an incident with its severity, and a rollback of a recent release when the objective says so), one that
/// stops firing is noted as resolved. The ledgers live in memory: after a restart the windows fill again.
/// </summary>
public sealed partial class SloWatcher(GantryManifest manifest, RolloutReconciler reconciler, IRouterMetrics router, AlertIntakeService alerts, TimeProvider time, ILogger<SloWatcher> logger)
{
    /// <summary>The identity raising the alerts, in incidents and the audit trail.</summary>
    public const string Actor = "gantry (slo)";

    private readonly ConcurrentDictionary<(TargetId Target, string Slo), Book> books = new();

    /// <summary>How often to look: often enough for a fifth of the shortest short window, at most every 10 s, at least every second.</summary>
    public TimeSpan Interval { get; } = manifest.Services.SelectMany(s => s.Slos).SelectMany(o => o.Alerts).Select(a => a.ShortWindow / 5)
        .Append(TimeSpan.FromSeconds(10)).Min() is var shortest && shortest < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : shortest;

    /// <summary>Whether any service has an objective.</summary>
    public bool Any => manifest.Services.Any(s => !s.Slos.IsEmpty);

    /// <summary>One look at every objective of every deployed service.</summary>
    public async Task LookAsync(CancellationToken ct)
    {
        foreach (var target in reconciler.Targets.Where(t => !t.Spec.Slos.IsEmpty))
        {
            foreach (var slo in target.Spec.Slos)
            {
                var key = (target.State.Target, slo.Name);
                var book = books.GetOrAdd(key, _ => new Book(SloLedger.Empty, null, null, new bool[slo.Alerts.Count]));
                var (count, cursor, sampleCursor) = await CountAsync(target.Route, slo, book, ct);
                var ledger = count is null ? book.Ledger : book.Ledger.Add(count, slo);
                var status = BurnRates.Evaluate(slo, ledger, time.GetUtcNow());
                var firing = status.Alerts.Select(a => a.Firing).ToArray();
                books[key] = new Book(ledger, cursor, sampleCursor, firing);
                for (var i = 0; i < firing.Length; i++)
                {
                    if (firing[i] != book.Firing[i])
                    {
                        await RaiseAsync(target.State.Target, slo, status.Alerts[i], ct);
                    }
                }
            }
        }
    }

    /// <summary>Where every objective of <paramref name="service"/> (or of every service) stands now.</summary>
    public IReadOnlyList<SloView> Statuses(string? service)
    {
        var now = time.GetUtcNow();
        return [.. reconciler.Targets.Where(t => service is null || t.State.Service == service)
            .SelectMany(t => t.Spec.Slos.Select(slo => new SloView(t.State.Service, t.State.Environment,
                BurnRates.Evaluate(slo, books.TryGetValue((t.State.Target, slo.Name), out var b) ? b.Ledger : SloLedger.Empty, now), slo.Threshold)))];
    }

    /// <summary>The route's requests since the last look: all of them, and those the objective counts as bad.</summary>
    private async Task<(SloCount? Count, long? Cursor, long? SampleCursor)> CountAsync(string route, SloSpec slo, Book book, CancellationToken ct)
    {
        try
        {
            var errors = await router.MeasureAsync(new MeasureRequest(route, null, BuiltinMetric.ErrorRate, Interval, Incremental: true, After: book.Cursor), ct);
            if (errors.Counts is not { } counts)
            {
                return (null, book.Cursor, book.SampleCursor);
            }

            var bad = counts.Events;
            long? sampleCursor = null;
            if (slo.Sli == SliKind.Latency && slo.Threshold is { } threshold)
            {
                // The kept samples of the requests since the last look: the share answered too slowly, of all requests.
                var latency = await router.MeasureAsync(new MeasureRequest(route, null, BuiltinMetric.Latency, Interval, true, true, book.SampleCursor), ct);
                var samples = latency.Samples ?? [];
                bad = samples.Count == 0 ? 0 : (long)Math.Round(counts.Trials * samples.Count(s => s > threshold.TotalSeconds) / (double)samples.Count);
                sampleCursor = latency.Through;
            }

            return (new SloCount(time.GetUtcNow(), counts.Trials, bad), errors.Through, sampleCursor);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Text.Json.JsonException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            LogUnmeasured(logger, route, ex.GetBaseException().Message);
            return (null, book.Cursor, book.SampleCursor);
        }
    }

    private async Task RaiseAsync(TargetId target, SloSpec slo, BurnRateVerdict verdict, CancellationToken ct)
    {
        var rule = verdict.Rule;
        var windows = $"{Core.Manifest.Values.DurationSyntax.Format(rule.LongWindow)} and {Core.Manifest.Values.DurationSyntax.Format(rule.ShortWindow)}";
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{target.Service} in {target.Environment} burns the error budget of its {slo.Name} objective ({slo.Objective:0.###%} over {Core.Manifest.Values.DurationSyntax.Format(slo.Period)}) at {verdict.LongWindow.BurnRate:0.#}x over {Core.Manifest.Values.DurationSyntax.Format(rule.LongWindow)} and {verdict.ShortWindow.BurnRate:0.#}x over {Core.Manifest.Values.DurationSyntax.Format(rule.ShortWindow)} (alert at {rule.BurnRate:0.#}x)");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["alertname"] = $"SLO {slo.Name} burn",
            ["service"] = target.Service,
            ["environment"] = target.Environment,
            ["windows"] = windows,
        };
        var alert = new ReceivedAlert(verdict.Firing ? "firing" : "resolved", labels, new Dictionary<string, string> { ["summary"] = summary },
            $"slo:{slo.Name}:{windows}", time.GetUtcNow());
        var answer = await alerts.RaiseAsync(alert, new AlertDecision(target.Service, target.Environment, rule.Severity, slo.RollbackWithin, null), new AuditContext(Actor, null), ct);
        LogRaised(logger, alert.Status, summary, answer.Action);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "objective alert {Status}: {Summary}: {Action}")]
    private static partial void LogRaised(ILogger logger, string status, string summary, string action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the router could not be measured for {Route}: {Reason}")]
    private static partial void LogUnmeasured(ILogger logger, string route, string reason);

    private sealed record Book(SloLedger Ledger, long? Cursor, long? SampleCursor, bool[] Firing);
}
