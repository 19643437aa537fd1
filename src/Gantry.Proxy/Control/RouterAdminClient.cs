using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;
using Gantry.Proxy.Metrics;

namespace Gantry.Proxy.Control;

/// <summary>The control plane's (and the CLI's) side of a router process's admin API, over its unix socket.</summary>
public sealed class RouterAdminClient : IRouterMetrics, IDisposable
{
    private readonly HttpClient http;

    public RouterAdminClient(RouterFiles files, string token, TimeSpan? timeout = null)
    {
        var socket = files.Socket;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = (_, _) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    // A local connect completes at once; the asynchronous one failed with EADDRNOTAVAIL in some processes.
                    s.Connect(new UnixDomainSocketEndPoint(socket));
                    return ValueTask.FromResult<Stream>(new NetworkStream(s, ownsSocket: true));
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        };
        http = new HttpClient(handler) { BaseAddress = new Uri("http://router"), Timeout = timeout ?? TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public async Task<RouterStatus> StatusAsync(CancellationToken ct) =>
        await http.GetFromJsonAsync<RouterStatus>(RouterAdminRoutes.Status, GantryJson.Options, ct) ?? throw new HttpRequestException("the router answered no status");

    public async Task<RouteTable> TableAsync(CancellationToken ct) =>
        await http.GetFromJsonAsync<RouteTable>(RouterAdminRoutes.Table, GantryJson.Options, ct) ?? throw new HttpRequestException("the router answered no table");

    public async Task<TableAnswer> ApplyAsync(RouteTable table, CancellationToken ct)
    {
        using var response = await http.PutAsJsonAsync(RouterAdminRoutes.Table, table, GantryJson.Options, ct);
        return await response.Content.ReadFromJsonAsync<TableAnswer>(GantryJson.Options, ct) ?? throw new HttpRequestException($"the router answered {(int)response.StatusCode} without a result");
    }

    public async Task<MetricValue> MeasureAsync(MeasureRequest request, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(RouterAdminRoutes.Measure, request, GantryJson.Options, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<MetricValue>(GantryJson.Options, ct) ?? throw new HttpRequestException("the router answered no measurement");
    }

    public Task<string> TextAsync(TimeSpan window, CancellationToken ct) =>
        http.GetStringAsync(string.Create(CultureInfo.InvariantCulture, $"{RouterAdminRoutes.Metrics}?window={(int)window.TotalSeconds}"), ct);

    public async Task<HandoverAnswer> HandoverAsync(HandoverRequest request, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(RouterAdminRoutes.Handover, request, GantryJson.Options, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<HandoverAnswer>(GantryJson.Options, ct) ?? throw new HttpRequestException("the router answered no handover result");
    }

    public void Dispose() => http.Dispose();
}
