using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.Metrics;

/// <summary>
/// One question to the router's own measurements: a metric of one group (a version on a route) over a window,
/// whole or only what is new after a cursor. The same record crosses the router's admin API.
/// </summary>
public sealed record MeasureRequest(string Route, string? Backend, BuiltinMetric Metric, TimeSpan Window, bool WantSamples = false, bool Incremental = false, long? After = null);

/// <summary>The router's measurements, in this process or behind a router process's admin API.</summary>
public interface IRouterMetrics
{
    Task<MetricValue> MeasureAsync(MeasureRequest request, CancellationToken ct);

    /// <summary>The Prometheus text of every series, percentiles over <paramref name="window"/>.</summary>
    Task<string> TextAsync(TimeSpan window, CancellationToken ct);
}

/// <summary>Answers <see cref="MeasureRequest"/>s from a <see cref="MetricsRegistry"/>: what the builtin metric provider reads.</summary>
public sealed class Measurements(MetricsRegistry metrics) : IRouterMetrics
{
    public Task<MetricValue> MeasureAsync(MeasureRequest request, CancellationToken ct) => Task.FromResult(Measure(request));

    public Task<string> TextAsync(TimeSpan window, CancellationToken ct) => Task.FromResult(PrometheusWriter.Write(metrics, window));

    public MetricValue Measure(MeasureRequest request)
    {
        var series = metrics.For(request.Route, request.Backend);
        var window = request.Window;
        var kind = new BuiltinQuery(request.Metric, null).ValueKind;
        if (request.Incremental)
        {
            return Incremental(request, kind, series, window);
        }

        var snapshot = series.Read(window);
        var samples = kind == Core.Manifest.Values.QuantityKind.Duration || request.WantSamples ? series.Samples(window) : null;
        if (request.Metric != BuiltinMetric.RequestRate && snapshot.Requests == 0)
        {
            return MetricValue.NoData(string.Create(CultureInfo.InvariantCulture, $"no requests reached {request.Backend ?? request.Route} in the last {window.TotalSeconds:0} s"));
        }

        var value = request.Metric switch
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
        return MetricValue.Of(value, samples);
    }

    /// <summary>
    /// Only what is new since the previous answer, for the sequential judge: for latencies, the kept samples numbered
    /// after the cursor (the window's samples the first time); for error and success rates, the requests and errors
    /// (5xx and failures) of the whole seconds after the cursor (the window the first time).
    /// </summary>
    private static MetricValue Incremental(MeasureRequest request, Core.Manifest.Values.QuantityKind kind, TrafficMetrics series, TimeSpan window)
    {
        if (kind == Core.Manifest.Values.QuantityKind.Duration)
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
        var value = request.Metric == BuiltinMetric.SuccessRate ? 1 - snapshot.ErrorRate : snapshot.ErrorRate;
        return new MetricValue(value, [], null, new MetricCounts(snapshot.Requests, snapshot.Errors5xx + snapshot.Failures), last);
    }
}
