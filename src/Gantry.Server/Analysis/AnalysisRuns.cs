using System.Collections.Concurrent;
using System.Globalization;
using Gantry.Core;
using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Proxy.Metrics;
using Gantry.Proxy.Routing;

namespace Gantry.Server.Analysis;

/// <summary>One measurement of an analysis run: when, and each metric's verdict.</summary>
public sealed record Measurement(DateTimeOffset At, IReadOnlyList<MetricVerdict> Verdicts);

/// <summary>An analysis run as shown to people: its phase, why, and every measurement.</summary>
public sealed record AnalysisRunView(string Key, ValueList<string> Templates, string Purpose, AnalysisPhase Phase, string Message, IReadOnlyList<Measurement> Measurements);

/// <summary>
/// Runs the analyses rollouts ask for, on the built-in router's own measurements: every interval the
/// candidate's group is measured against the thresholds and against the stable group measured over the
/// same window; failureLimit, inconclusiveLimit and consecutiveErrorLimit decide the run's phase.
/// A run is in memory: after a restart of the control plane, the step's analysis starts over.
/// </summary>
public sealed class AnalysisRuns(TimeProvider time, MetricsRegistry metrics, GantryManifest manifest) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Run> runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();

    /// <summary>The status of the run a rollout asks for, starting it the first time.</summary>
    public AnalysisStatus? Observe(RolloutState state, string route, string? previewRoute)
    {
        if (state.Analysis is not { } request)
        {
            return null;
        }

        var run = runs.GetOrAdd(request.Key, _ =>
        {
            var templates = request.Templates.Select(manifest.FindAnalysis).OfType<AnalysisTemplate>().ToList();
            var candidate = request.Purpose == "pre-promotion" && previewRoute is not null
                ? (previewRoute, state.Release.Version)
                : (route, state.Release.Version);
            var baseline = (route, state.PreviousVersion ?? state.Release.Version);
            var r = new Run(request, templates, candidate, baseline);
            r.Task = Task.Run(() => RunAsync(r, stopping.Token));
            return r;
        });
        return new AnalysisStatus(request.Key, run.Phase, run.Message);
    }

    public AnalysisRunView? View(string key) =>
        runs.TryGetValue(key, out var r) ? new AnalysisRunView(key, r.Request.Templates, r.Request.Purpose, r.Phase, r.Message, r.Snapshot()) : null;

    /// <summary>Forgets runs no rollout asks for any more (the rollout moved on, was aborted or retried).</summary>
    public void Keep(IReadOnlySet<string> keys)
    {
        foreach (var key in runs.Keys.Where(k => !keys.Contains(k)))
        {
            if (runs.TryRemove(key, out var run))
            {
                run.Cancel.Cancel();
                run.Cancel.Dispose();
            }
        }
    }

    private async Task RunAsync(Run run, CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, run.Cancel.Token);
        var ct = linked.Token;
        try
        {
            run.Set(AnalysisPhase.Running, "waiting for the first measurement");
            var initialDelay = run.Templates.Select(t => t.InitialDelay).DefaultIfEmpty(TimeSpan.Zero).Max();
            var interval = run.Templates.Select(t => t.Interval).DefaultIfEmpty(TimeSpan.FromSeconds(5)).Min();
            var count = run.Templates.Select(t => t.Count ?? 1).DefaultIfEmpty(1).Max();
            await Task.Delay(initialDelay, time, ct);
            int failures = 0, inconclusive = 0, consecutiveErrors = 0;
            for (var i = 1; i <= count; i++)
            {
                await Task.Delay(interval, time, ct);
                var window = TimeSpan.FromSeconds(Math.Clamp(interval.TotalSeconds, 1, TrafficMetrics.WindowSeconds));
                var candidate = metrics.For(run.Candidate.Route, run.Candidate.Group).Read(window);
                var baseline = metrics.For(run.Baseline.Route, run.Baseline.Group).Read(window);
                var verdicts = run.Templates
                    .SelectMany(t => BuiltinJudge.Judge(t, m => BuiltinJudge.Measure(m, candidate, window), m => BuiltinJudge.Measure(m, baseline, window)))
                    .DistinctBy(v => v.Metric)
                    .ToList();
                run.Add(new Measurement(time.GetUtcNow(), verdicts));
                var counted = verdicts.Where(v => !v.DryRun).ToList();
                failures += counted.Any(v => v.Outcome == MetricOutcome.Fail) ? 1 : 0;
                inconclusive += counted.Any(v => v.Outcome == MetricOutcome.NoData) ? 1 : 0;
                consecutiveErrors = counted.Any(v => v.Outcome == MetricOutcome.Error) ? consecutiveErrors + 1 : 0;
                var failing = string.Join("; ", counted.Where(v => v.Outcome != MetricOutcome.Pass).Select(v => v.Sentence));
                var failureLimit = run.Templates.Select(t => t.FailureLimit).DefaultIfEmpty(0).Min();
                var inconclusiveLimit = run.Templates.Select(t => t.InconclusiveLimit).DefaultIfEmpty(0).Min();
                var errorLimit = run.Templates.Select(t => t.ConsecutiveErrorLimit).DefaultIfEmpty(4).Min();
                if (failures > failureLimit)
                {
                    run.Set(AnalysisPhase.Failed, string.Create(CultureInfo.InvariantCulture, $"{failures} of {i} measurements failed (limit {failureLimit}): {failing}"));
                    return;
                }

                if (consecutiveErrors > errorLimit)
                {
                    run.Set(AnalysisPhase.Error, string.Create(CultureInfo.InvariantCulture, $"{consecutiveErrors} measurements in a row had errors: {failing}"));
                    return;
                }

                if (inconclusive > inconclusiveLimit)
                {
                    run.Set(AnalysisPhase.Inconclusive, string.Create(CultureInfo.InvariantCulture, $"{inconclusive} measurement(s) without data: {failing}"));
                    return;
                }

                run.Set(AnalysisPhase.Running, string.Create(CultureInfo.InvariantCulture, $"measurement {i}/{count}: {Summary(verdicts)}"));
            }

            run.Set(AnalysisPhase.Successful, string.Create(CultureInfo.InvariantCulture, $"{count} measurement(s) passed: {Summary(run.Snapshot()[^1].Verdicts)}"));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Forgotten or shutting down.
        }
    }

    private static string Summary(IEnumerable<MetricVerdict> verdicts) =>
        string.Join("; ", verdicts.Select(v => $"{v.Metric}: {v.Sentence}"));

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await Task.WhenAll(runs.Values.Select(r => r.Task ?? Task.CompletedTask));
        stopping.Dispose();
    }

    private sealed class Run(AnalysisRequest request, List<AnalysisTemplate> templates, (string Route, string Group) candidate, (string Route, string Group) baseline)
    {
        private readonly Lock gate = new();
        private readonly List<Measurement> measurements = [];

        public AnalysisRequest Request { get; } = request;

        public List<AnalysisTemplate> Templates { get; } = templates;

        public (string Route, string Group) Candidate { get; } = candidate;

        public (string Route, string Group) Baseline { get; } = baseline;

        public CancellationTokenSource Cancel { get; } = new();

        public Task? Task { get; set; }

        public AnalysisPhase Phase { get; private set; } = AnalysisPhase.Pending;

        public string Message { get; private set; } = "pending";

        public void Set(AnalysisPhase phase, string message)
        {
            lock (gate)
            {
                (Phase, Message) = (phase, message);
            }
        }

        public void Add(Measurement m)
        {
            lock (gate)
            {
                measurements.Add(m);
            }
        }

        public IReadOnlyList<Measurement> Snapshot()
        {
            lock (gate)
            {
                return [.. measurements];
            }
        }
    }
}
