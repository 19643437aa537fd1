using Gantry.Core.Analysis;
using Gantry.Proxy.Metrics;

namespace Gantry.Server.Analysis.Providers;

/// <summary>
/// The built-in router's own measurements of a group (a version on a route) over a window: asked of the router in
/// this process, or of the router process over its admin API (raw latency samples included).
/// </summary>
public sealed class BuiltinMetricProvider(IRouterMetrics router) : IMetricProvider
{
    public string Name => "builtin";

    public async Task<MetricValue> QueryAsync(MetricRequest request, CancellationToken ct)
    {
        if (request.Query is not BuiltinQuery query)
        {
            return MetricValue.Failed($"the builtin provider cannot run a {request.Query.Provider} query");
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
}
