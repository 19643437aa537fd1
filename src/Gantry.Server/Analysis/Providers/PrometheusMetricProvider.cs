using System.Globalization;
using System.Text.Json;
using Gantry.Core.Analysis;

namespace Gantry.Server.Analysis.Providers;

/// <summary>
/// PromQL over Prometheus's HTTP API: an instant query gives the value (the first series of a vector, or a
/// scalar); when the judge wants samples, a range query over the window gives them.
/// </summary>
public sealed class PrometheusMetricProvider(HttpClient client, TimeProvider time) : IMetricProvider
{
    public string Name => "prometheus";

    public async Task<MetricValue> QueryAsync(MetricRequest request, CancellationToken ct)
    {
        if (request.Query is not PrometheusQuery query)
        {
            return MetricValue.Failed($"the prometheus provider cannot run a {request.Query.Provider} query");
        }

        var promql = Placeholders.Expand(query.Query, request.Target.Placeholders);
        var baseUri = query.Address.ToString().TrimEnd('/');
        var now = time.GetUtcNow();
        var instant = await GetAsync(new Uri($"{baseUri}/api/v1/query?query={Uri.EscapeDataString(promql)}&time={Seconds(now)}"), query.Timeout, ct);
        if (instant.Error is { } error)
        {
            return MetricValue.Failed(error);
        }

        var value = instant.Data!.Value.GetProperty("resultType").GetString() switch
        {
            "scalar" => Number(instant.Data.Value.GetProperty("result")),
            "vector" => instant.Data.Value.GetProperty("result") is { ValueKind: JsonValueKind.Array } r && r.GetArrayLength() > 0 ? Number(r[0].GetProperty("value")) : null,
            var other => throw new JsonException($"result type {other} is not a number"),
        };
        if (value is null)
        {
            return MetricValue.NoData($"'{promql}' returned no series");
        }

        IReadOnlyList<double>? samples = null;
        if (request.WantSamples)
        {
            var step = Math.Max(1, request.Window.TotalSeconds / 60);
            var range = await GetAsync(new Uri(string.Create(CultureInfo.InvariantCulture,
                $"{baseUri}/api/v1/query_range?query={Uri.EscapeDataString(promql)}&start={Seconds(now - request.Window)}&end={Seconds(now)}&step={step}")), query.Timeout, ct);
            samples = range.Data is { } data && data.GetProperty("result") is { ValueKind: JsonValueKind.Array } series && series.GetArrayLength() > 0
                ? [.. series[0].GetProperty("values").EnumerateArray().Select(Number).OfType<double>()]
                : [];
        }

        return MetricValue.Of(value.Value, samples);
    }

    private static string Seconds(DateTimeOffset t) => (t.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);

    private static double? Number(JsonElement pair) =>
        pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2
        && double.TryParse(pair[1].GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;

    private sealed record Answer(JsonElement? Data, string? Error);

    private async Task<Answer> GetAsync(Uri uri, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            using var response = await client.GetAsync(uri, limit.Token);
            var body = await response.Content.ReadAsStringAsync(limit.Token);
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.GetProperty("status").GetString() != "success")
            {
                return new Answer(null, $"prometheus: {root.GetProperty("errorType").GetString()}: {root.GetProperty("error").GetString()}");
            }

            return new Answer(root.GetProperty("data").Clone(), null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Answer(null, $"prometheus at {uri.GetLeftPart(UriPartial.Authority)} did not answer within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new Answer(null, $"prometheus at {uri.GetLeftPart(UriPartial.Authority)}: {ex.Message}");
        }
    }
}
