using System.Collections.Concurrent;
using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Core.Analysis.Judge;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Strategies;

namespace Gantry.Server.Analysis;

/// <summary>
/// Runs the analyses rollouts ask for. Every interval each metric is measured through its provider for the
/// candidate (and for the stable baseline at the same time when its condition or judge needs one), judged,
/// and added under its template's limits; the run ends as soon as its worst metric decides, or when every
/// metric has had its count. Every measurement is stored with the rollout. A run lives in memory while it
/// runs: after a restart of the control plane, the step's analysis starts over (its earlier record stays).
/// </summary>
public sealed class AnalysisRuns(TimeProvider time, IReadOnlyDictionary<string, IMetricProvider> providers, GantryManifest manifest, IAnalysisStore store) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Run> runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();

    /// <summary>Measurements kept per metric in a background run, which may measure for hours (the counts go on).</summary>
    public const int BackgroundMeasurementsKept = 500;

    /// <summary>The status of a run a rollout asks for (its step analysis or its background analysis), starting it the first time.</summary>
    public AnalysisStatus? Observe(AnalysisRequest? request, RolloutState state, string route, string? previewRoute)
    {
        if (request is null || request.Completed)
        {
            return null;
        }

        var run = runs.GetOrAdd(request.Key, _ =>
        {
            var templates = request.Templates.Select(manifest.FindAnalysis).OfType<AnalysisTemplate>().ToList();
            var candidateRoute = request.Purpose == "pre-promotion" && previewRoute is not null ? previewRoute : route;
            var candidate = new MetricTarget(state.Service, state.Environment, "canary", state.Release.Version, candidateRoute);
            var now = time.GetUtcNow();
            var r = new Run(new AnalysisRunRecord(request.Key, state.Id, request.Templates, request.Purpose, AnalysisPhase.Running, "waiting for the first measurement",
                [.. templates.SelectMany(t => t.Metrics).Select(MetricResult.Start)], [], now, now), templates, candidate, BaselineOf(state, route), request.IsBackground);
            r.Task = Task.Run(() => RunAsync(r, stopping.Token));
            return r;
        });

        // The baseline follows the rollout: a fresh baseline set, once it serves, replaces the stable one.
        run.Baseline = BaselineOf(state, route);
        var record = run.Record;
        return new AnalysisStatus(request.Key, record.Phase, record.Message);
    }

    /// <summary>What the canary is compared with: the fresh baseline set when one serves, otherwise the stable release.</summary>
    private static MetricTarget BaselineOf(RolloutState state, string route) =>
        state.SetOf(SetRole.Baseline) is { } fresh && state.Traffic.BaselineWeight > 0
            ? new MetricTarget(state.Service, state.Environment, "baseline", fresh.Version, route, fresh.Key)
            : new MetricTarget(state.Service, state.Environment, "baseline", state.PreviousVersion ?? state.Release.Version, route);

    public AnalysisRunRecord? View(string key) => runs.TryGetValue(key, out var r) ? r.Record : null;

    /// <summary>Forgets runs no rollout asks for any more (the rollout moved on, was aborted or retried).</summary>
    public void Keep(IReadOnlySet<string> keys)
    {
        foreach (var key in runs.Keys.Where(k => !keys.Contains(k)))
        {
            if (runs.TryRemove(key, out var run))
            {
                run.Cancel.Cancel();
            }
        }
    }

    /// <summary>How soon a query that erred is tried again (Argo's default error retry interval).</summary>
    public static readonly TimeSpan ErrorRetry = TimeSpan.FromSeconds(10);

    private async Task RunAsync(Run run, CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, run.Cancel.Token);
        var ct = linked.Token;
        try
        {
            var templates = run.Templates;
            var byMetric = templates.SelectMany(t => t.Metrics.Select(m => (Metric: m, Template: t))).ToDictionary(x => x.Metric.Name, StringComparer.Ordinal);
            var interval = templates.Select(t => t.Interval).DefaultIfEmpty(TimeSpan.FromSeconds(5)).Min();
            // A step analysis measures once unless told; a background analysis until the rollout ends.
            var unbounded = run.Background ? int.MaxValue : 1;
            await Task.Delay(templates.Select(t => t.InitialDelay).DefaultIfEmpty(TimeSpan.Zero).Max(), time, ct);

            // Every metric ends by itself (its count of measurements that are evidence, or its error limit): the
            // loop goes on until the run has a phase. After an error the query is tried again sooner, as Argo does.
            var wait = interval;
            while (true)
            {
                await Task.Delay(wait, time, ct);
                wait = interval;
                // The last interval, in whole seconds: the router reads every second it overlaps, the one in progress too.
                var window = TimeSpan.FromSeconds(Math.Clamp(Math.Ceiling(interval.TotalSeconds), 1, 60));
                var now = time.GetUtcNow();
                var record = run.Record;
                var metrics = record.Metrics.ToList();
                var judged = new List<MetricJudgement>();
                for (var i = 0; i < metrics.Count; i++)
                {
                    var (spec, template) = byMetric[metrics[i].Name];
                    if (metrics[i].Phase != AnalysisPhase.Running)
                    {
                        continue;
                    }

                    var (measurement, judgement) = await MeasureAsync(spec, run, metrics[i], window, now, ct);
                    metrics[i] = AnalysisEvaluator.Add(metrics[i], measurement, template, template.Count ?? unbounded);
                    if (measurement.Phase == AnalysisPhase.Error && interval > ErrorRetry)
                    {
                        wait = ErrorRetry;
                    }

                    if (metrics[i].Measurements.Length > BackgroundMeasurementsKept)
                    {
                        metrics[i] = metrics[i] with { Measurements = [.. metrics[i].Measurements.Skip(metrics[i].Measurements.Length - BackgroundMeasurementsKept)] };
                    }
                    if (judgement is not null)
                    {
                        judged.Add(judgement);
                    }
                }

                var judgements = record.Judgements.ToList();
                if (judged.Count > 0)
                {
                    judgements.Add(CanaryJudge.Score(judged, templates.First(t => t.Metrics.Any(m => m.Judge is not null)).Scores));
                    if (judgements.Count > BackgroundMeasurementsKept)
                    {
                        judgements.RemoveAt(0);
                    }
                }

                var phase = AnalysisEvaluator.RunPhase(metrics);
                if (phase is AnalysisPhase.Running or AnalysisPhase.Successful && judgements.Count > 0
                    && (judgements[^1].Outcome == JudgementOutcome.Fail || (phase == AnalysisPhase.Successful && CanaryJudge.Final(judgements) == AnalysisPhase.Failed)))
                {
                    // Every judgement must be at least marginal, so a failing one decides at once.
                    phase = AnalysisPhase.Failed;
                }

                if (phase != AnalysisPhase.Running)
                {
                    metrics = [.. metrics.Select(AnalysisEvaluator.Terminated)];
                }

                var message = Explain(phase, metrics, judgements);
                run.Record = record with { Phase = phase, Message = message, Metrics = [.. metrics], Judgements = [.. judgements], UpdatedAt = now };
                await store.SaveAnalysisAsync(run.Record, CancellationToken.None);
                if (phase != AnalysisPhase.Running)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Forgotten or shutting down.
        }
        catch (Exception ex)
        {
            // A fault of the run itself (not of a measurement): the rollout must not wait for it forever.
            run.Record = run.Record with { Phase = AnalysisPhase.Error, Message = $"the analysis run failed: {ex.GetType().Name}: {ex.Message}", UpdatedAt = time.GetUtcNow() };
            try
            {
                await store.SaveAnalysisAsync(run.Record, CancellationToken.None);
            }
            catch (Exception)
            {
                // Storing failed as well: the record in memory still decides the rollout.
            }
        }
    }

    /// <summary>One measurement of one metric: a threshold judged by the evaluator, or the statistical judge.</summary>
    private async Task<(MetricMeasurement, MetricJudgement?)> MeasureAsync(MetricSpec spec, Run run, MetricResult so, TimeSpan window, DateTimeOffset now, CancellationToken ct)
    {
        if (!providers.TryGetValue(spec.Query.Provider, out var provider))
        {
            return (new MetricMeasurement(now, AnalysisPhase.Error, null, null, $"{spec.Name}: no {spec.Query.Provider} provider in this server"), null);
        }

        if (spec.Judge is { Method: JudgeMethod.Sequential } sequential && spec.Query is BuiltinQuery judged)
        {
            return await LookAsync(provider, spec, judged, sequential, run, window, now, ct);
        }

        var kind = spec.Query is BuiltinQuery b ? b.ValueKind : QuantityKind.Number;
        var needsBaseline = spec.Judge is not null || (spec.FailWhen ?? spec.PassWhen)?.UsesBaseline == true;
        var candidateTask = provider.QueryAsync(new MetricRequest(spec.Query, run.Candidate, window, spec.Judge is not null), ct);
        var baselineTask = needsBaseline ? provider.QueryAsync(new MetricRequest(spec.Query, run.Baseline, window, spec.Judge is not null), ct) : Task.FromResult<MetricValue>(null!);
        var candidate = await candidateTask;
        var baseline = needsBaseline ? await baselineTask : null;
        if (spec.Judge is { } options)
        {
            var error = candidate.Samples is null ? candidate.Error : baseline?.Samples is null ? baseline?.Error : null;
            var j = CanaryJudge.JudgeMetric(spec.Name, options, candidate.Samples, baseline?.Samples, kind, error, (spec.Query as BuiltinQuery)?.JudgedQuantile);
            var phase = j.Class switch
            {
                MetricClass.Error => AnalysisPhase.Error,
                MetricClass.NoData when j.Failed => AnalysisPhase.Inconclusive,
                _ when j.Failed => AnalysisPhase.Failed,
                _ => AnalysisPhase.Successful,
            };
            return (new MetricMeasurement(now, phase, j.CanaryMedian, j.BaselineMedian, j.Sentence), j);
        }

        return (AnalysisEvaluator.Judge(spec, candidate, baseline, kind, so.Measurements, now), null);
    }

    /// <summary>
    /// One look of a sequential judge: only the requests since its previous look, added to everything it has seen. Too
    /// little data is a wait (a Pending measurement, not counted), never a failure; a verdict, once reached, holds.
    /// </summary>
    private static async Task<(MetricMeasurement, MetricJudgement?)> LookAsync(IMetricProvider provider, MetricSpec spec, BuiltinQuery query, JudgeOptions options, Run run, TimeSpan window, DateTimeOffset now, CancellationToken ct)
    {
        var baselineTarget = run.Baseline;
        var state = run.Sequential.TryGetValue(spec.Name, out var s) ? s : SequentialState.Start(baselineTarget.Backend, SequentialJudge.CountDirection(options, query.Metric));
        var fresh = state.BaselineSet != baselineTarget.Backend;
        var candidate = provider.QueryAsync(new MetricRequest(spec.Query, run.Candidate, window, true, true, fresh ? null : state.CanaryAfter), ct);
        var baseline = provider.QueryAsync(new MetricRequest(spec.Query, baselineTarget, window, true, true, fresh ? null : state.BaselineAfter), ct);
        var (next, j) = SequentialJudge.Look(state, spec.Name, options, query.Metric, await candidate, await baseline, baselineTarget.Backend);
        run.Sequential[spec.Name] = next;
        var phase = j.Class switch
        {
            MetricClass.Error => AnalysisPhase.Error,
            MetricClass.NoData => AnalysisPhase.Pending,
            _ when j.Failed => AnalysisPhase.Failed,
            _ => AnalysisPhase.Successful,
        };
        return (new MetricMeasurement(now, phase, j.CanaryMedian, j.BaselineMedian, j.Sentence), phase == AnalysisPhase.Pending ? null : j);
    }

    /// <summary>One sentence per metric that decided (or the latest of each when all passed).</summary>
    internal static string Explain(AnalysisPhase phase, List<MetricResult> metrics, List<Judgement> judgements)
    {
        var deciding = metrics.Where(m => !m.DryRun && m.Phase is AnalysisPhase.Failed or AnalysisPhase.Error or AnalysisPhase.Inconclusive).ToList();
        if (deciding.Count > 0)
        {
            return string.Join("; ", deciding.Select(m => m.LastSentence + m.Phase switch
            {
                AnalysisPhase.Failed => string.Create(CultureInfo.InvariantCulture, $" ({m.Failed} of {m.Count} measurements failed)"),
                AnalysisPhase.Error => string.Create(CultureInfo.InvariantCulture, $" ({m.ConsecutiveErrors} measurements in a row could not be taken)"),
                _ => string.Create(CultureInfo.InvariantCulture, $" ({m.Inconclusive} of {m.Count} measurements inconclusive)"),
            }));
        }

        // A failing last measurement of a metric that has not failed is within its failureLimit: say so, or "passed: 45% exceeds 5%" reads as a contradiction.
        var latest = string.Join("; ", metrics.Where(m => m.LastSentence is not null).Select(m => m.LastSentence + (m.Failed > 0
            ? string.Create(CultureInfo.InvariantCulture, $" ({m.Failed} of {m.Count} measurements failed, within the failure limit)")
            : string.Empty)));
        var judge = judgements.Count > 0 ? $"; judge {judgements[^1].Summary}" : string.Empty;
        return phase == AnalysisPhase.Failed && judgements.Count > 0
            ? $"the judge failed: {string.Join(", ", judgements.Select(j => j.Outcome.ToString().ToLowerInvariant()))} ({judgements[^1].Summary}); {latest}"
            : phase == AnalysisPhase.Successful
                ? $"{latest}{judge}"
                : string.Create(CultureInfo.InvariantCulture, $"measurement {metrics.Max(m => m.Count)}: {latest}{judge}");
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await Task.WhenAll(runs.Values.Select(r => r.Task ?? Task.CompletedTask));
        stopping.Dispose();
    }

    private sealed class Run(AnalysisRunRecord record, List<AnalysisTemplate> templates, MetricTarget candidate, MetricTarget baseline, bool background)
    {
        private volatile MetricTarget baselineTarget = baseline;

        public bool Background { get; } = background;

        private volatile AnalysisRunRecord current = record;

        public AnalysisRunRecord Record
        {
            get => current;
            set => current = value;
        }

        public List<AnalysisTemplate> Templates { get; } = templates;

        public MetricTarget Candidate { get; } = candidate;

        public MetricTarget Baseline
        {
            get => baselineTarget;
            set => baselineTarget = value;
        }

        public CancellationTokenSource Cancel { get; } = new();

        /// <summary>What each sequential judge has seen so far (used only by the run's own loop).</summary>
        public Dictionary<string, SequentialState> Sequential { get; } = new(StringComparer.Ordinal);

        public Task? Task { get; set; }
    }
}
