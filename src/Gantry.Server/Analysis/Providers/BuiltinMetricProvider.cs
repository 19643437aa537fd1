using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
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
    /// Only the whole seconds since the previous answer (the window the first time): every request once, for the
    /// sequential judge. Latencies as samples, and the requests with their errors (5xx and failures) as counts.
    /// </summary>
    private static MetricValue Incremental(BuiltinQuery query, MetricRequest request, Proxy.Metrics.TrafficMetrics series, TimeSpan window)
    {
        var through = series.CompletedSecond;
        var after = request.After ?? through - (long)Math.Max(1, Math.Ceiling(window.TotalSeconds));
        if (after >= through)
        {
            return new MetricValue(null, [], null, new MetricCounts(0, 0), after);
        }

        var snapshot = series.ReadBetween(after, through);
        var counts = new MetricCounts(snapshot.Requests, snapshot.Errors5xx + snapshot.Failures);
        var samples = query.ValueKind == Core.Manifest.Values.QuantityKind.Duration ? series.SamplesBetween(after, through) : [];
        var value = query.Metric switch
        {
            BuiltinMetric.ErrorRate => snapshot.ErrorRate,
            BuiltinMetric.SuccessRate => 1 - snapshot.ErrorRate,
            _ => samples.Count > 0 ? Core.Analysis.Judge.CanaryJudge.Median(samples) : double.NaN,
        };
        return new MetricValue(value, samples, null, counts, through);
    }
}
