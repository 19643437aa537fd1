using Gantry.Core.Analysis;
using Gantry.Core.Runtime;
using Gantry.Proxy.Metrics;

namespace Gantry.Server.Analysis.Providers;

/// <summary>
/// The built-in router's own measurements of a group (a version on a route) over a window: asked of the router in
/// this process, or of the router process over its admin API (raw latency samples included). The instances' CPU
/// and memory come from the runtime instead, when it measures them (a container engine).
/// </summary>
public sealed class BuiltinMetricProvider(IRouterMetrics router, IRuntime runtime) : IMetricProvider
{
    private const double MiB = 1024 * 1024;

    public string Name => "builtin";

    public async Task<MetricValue> QueryAsync(MetricRequest request, CancellationToken ct)
    {
        if (request.Query is not BuiltinQuery query)
        {
            return MetricValue.Failed($"the builtin provider cannot run a {request.Query.Provider} query");
        }

        if (query.OfInstances)
        {
            return await UsageAsync(query.Metric, request.Target, ct);
        }

        try
        {
            return await router.MeasureAsync(new MeasureRequest(request.Target.Route, request.Target.Backend, query.Metric, query.Window ?? request.Window, request.WantSamples, request.Incremental, request.After), ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Text.Json.JsonException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return MetricValue.Failed($"the router did not answer: {ex.GetBaseException().Message}");
        }
    }

    /// <summary>The mean over the group's running instances: CPU as a share of each one's limit (of one core without a limit), memory in MiB.</summary>
    private async Task<MetricValue> UsageAsync(BuiltinMetric metric, MetricTarget target, CancellationToken ct)
    {
        if (!runtime.Capabilities.HasFlag(RuntimeCapabilities.Usage))
        {
            return MetricValue.Failed($"the runtime '{runtime.Name}' does not measure its instances' CPU and memory (the docker runtime does)");
        }

        var set = new InstanceSetId(target.Service, target.Environment, target.Backend);
        var instances = runtime.Observe().Where(i => i.SetId == set && i.ProcessId is not null).ToList();
        try
        {
            var readings = (await Task.WhenAll(instances.Select(i => runtime.UsageAsync(i.Id, ct)))).OfType<InstanceUsage>().ToList();
            if (readings.Count == 0)
            {
                return MetricValue.NoData($"no running instance of {target.Backend} to measure");
            }

            return metric == BuiltinMetric.Cpu
                ? MetricValue.Of(readings.Average(r => r.CpuCores / (r.CpuLimit ?? 1.0)))
                : MetricValue.Of(readings.Average(r => r.MemoryBytes / MiB));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return MetricValue.Failed($"the runtime could not measure {target.Backend}: {ex.GetBaseException().Message}");
        }
    }
}
