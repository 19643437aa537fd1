using Gantry.Core;
using Gantry.Core.Traffic;

namespace Gantry.Server.Routers;

/// <summary>
/// This machine's router listening on an address of its own (<c>gantry server --router-address</c>): every route's
/// listener moves to <paramref name="host"/>, its port kept, on the way to the router, and back to the manifest's
/// address on the way out, so that the rest of the control plane, and the table published for other replicas,
/// speak the manifest's addresses.
/// </summary>
public sealed class BoundRouter(ITrafficRouter inner, string host) : ITrafficRouter, IPublishedTables
{
    private volatile Dictionary<string, Core.Manifest.Values.Endpoint> written = new(StringComparer.Ordinal);

    public string Name => inner.Name;

    public RouterCapabilities Capabilities => inner.Capabilities;

    public Task<TrafficApplyResult> ApplyAsync(ValueList<TrafficRoute> routes, CancellationToken ct) => ApplyPublishedAsync(routes, 0, false, ct);

    public async Task<TrafficApplyResult> ApplyPublishedAsync(ValueList<TrafficRoute> routes, long published, bool follows, CancellationToken ct)
    {
        ValueList<TrafficRoute> bound = [.. routes.Select(r => r with { Listen = r.Listen with { Host = host } })];
        var result = inner is IPublishedTables ordered && published > 0 ? await ordered.ApplyPublishedAsync(bound, published, follows, ct) : await inner.ApplyAsync(bound, ct);
        if (result.Applied)
        {
            // The listeners as written of the table in force: a refused table leaves the router serving the last one.
            written = routes.ToDictionary(r => r.Name, r => r.Listen, StringComparer.Ordinal);
        }

        return result;
    }

    public async ValueTask<ValueList<TrafficRoute>> InForceAsync(CancellationToken ct)
    {
        var asWritten = written;
        return [.. (await inner.InForceAsync(ct)).Select(r => asWritten.TryGetValue(r.Name, out var listen) && r.Listen.Port == listen.Port ? r with { Listen = listen } : r)];
    }
}
