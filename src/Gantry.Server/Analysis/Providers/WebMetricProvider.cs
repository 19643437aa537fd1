using System.Globalization;
using System.Text.Json;
using Gantry.Core.Analysis;

namespace Gantry.Server.Analysis.Providers;

/// <summary>An HTTP GET answering JSON; a path such as <c>$.data.errorRate</c> or <c>$.items[0].value</c> picks the number.</summary>
public sealed class WebMetricProvider(HttpClient client) : IMetricProvider
{

    public string Name => "web";

    public async Task<MetricValue> QueryAsync(MetricRequest request, CancellationToken ct)
    {
        if (request.Query is not WebQuery query)
        {
            return MetricValue.Failed($"the web provider cannot run a {request.Query.Provider} query");
        }

        var url = new Uri(Placeholders.Expand(query.Url.ToString(), request.Target.Placeholders));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(query.Timeout);
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, url);
            foreach (var (name, value) in query.Headers)
            {
                message.Headers.TryAddWithoutValidation(name, Placeholders.Expand(value, request.Target.Placeholders));
            }

            using var response = await client.SendAsync(message, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return MetricValue.Failed(string.Create(CultureInfo.InvariantCulture, $"GET {url} answered {(int)response.StatusCode}"));
            }

            using var doc = JsonDocument.Parse(body);
            return Core.Manifest.Values.JsonPick.Number(doc.RootElement, query.JsonPath) is { } number
                ? MetricValue.Of(number)
                : MetricValue.Failed($"GET {url}: {query.JsonPath} is not a number in the answer");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return MetricValue.Failed($"GET {url} did not answer within {query.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException)
        {
            return MetricValue.Failed($"GET {url}: {ex.Message}");
        }
    }
}
