using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Proxy.Routing;

namespace Gantry.Server.Analysis.Providers;

/// <summary>The built-in router's own measurements of a group (a version on a route) over a window.</summary>
public sealed class BuiltinMetricProvider(MetricsRegistry metrics) : IMetricProvider
{
    public string Name => "builtin";

    public Task<MetricValue> QueryAsync(MetricRequest request, CancellationToken ct)
    {
        if (request.Query is not BuiltinQuery query)
        {
            return Task.FromResult(MetricValue.Failed($"the builtin provider cannot run a {request.Query.Provider} query"));
        }

        var window = query.Window ?? request.Window;
        var series = metrics.For(request.Target.Route, request.Target.Backend);
        if (request.Incremental)
        {
            return Task.FromResult(Incremental(query, request, series, window));
        }

        var snapshot = series.Read(window);
        var samples = query.Metric == BuiltinMetric.Latency || request.WantSamples ? series.Samples(window) : null;
        if (query.Metric != BuiltinMetric.RequestRate && snapshot.Requests == 0)
        {
            return Task.FromResult(MetricValue.NoData(string.Create(CultureInfo.InvariantCulture, $"no requests reached {request.Target.Backend} in the last {window.TotalSeconds:0} s")));
        }

        var value = query.Metric switch
        {
            BuiltinMetric.ErrorRate => snapshot.ErrorRate,
            BuiltinMetric.SuccessRate => 1 - snapshot.ErrorRate,
            BuiltinMetric.RequestRate => snapshot.Requests / window.TotalSeconds,
            BuiltinMetric.LatencyP50 => snapshot.P50,
            BuiltinMetric.LatencyP90 => snapshot.P90,
            BuiltinMetric.LatencyP95 => snapshot.P95,
            BuiltinMetric.LatencyP99 => snapshot.P99,
            _ => samples is { Count: > 0 } ? Core.Analysis.Judge.CanaryJudge.Median(samples) : double.NaN,
        };
        return Task.FromResult(MetricValue.Of(value, samples));
    }

    /// <summary>
    /// Only what is new since the previous answer, for the sequential judge: for latencies, the kept samples numbered
    /// after the cursor (the window's samples the first time); for error and success rates, the requests and errors
    /// (5xx and failures) of the whole seconds after the cursor (the window the first time).
    /// </summary>
    private static MetricValue Incremental(BuiltinQuery query, MetricRequest request, Proxy.Metrics.TrafficMetrics series, TimeSpan window)
    {
        if (query.ValueKind == Core.Manifest.Values.QuantityKind.Duration)
        {
            // The first time, the window's samples; then those numbered after the cursor: never one twice.
            var samples = request.After is { } after ? series.SamplesAfter(after, out var through) : series.SamplesAfter(-1, out through, window);
            return new MetricValue(samples.Count > 0 ? Core.Analysis.Judge.CanaryJudge.Median(samples) : double.NaN, samples, null, new MetricCounts(samples.Count, 0), through);
        }

        var last = series.CompletedSecond;
        var from = request.After ?? last - (long)Math.Max(1, Math.Ceiling(window.TotalSeconds));
        if (from >= last)
        {
            return new MetricValue(null, [], null, new MetricCounts(0, 0), from);
        }

        var snapshot = series.ReadBetween(from, last);
        var value = query.Metric == BuiltinMetric.SuccessRate ? 1 - snapshot.ErrorRate : snapshot.ErrorRate;
        return new MetricValue(value, [], null, new MetricCounts(snapshot.Requests, snapshot.Errors5xx + snapshot.Failures), last);
    }
}
