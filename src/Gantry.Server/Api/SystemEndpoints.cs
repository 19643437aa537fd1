using System.Globalization;
using System.Text;
using System.Text.Json;
using Gantry.Core.Access;
using Gantry.Proxy.Metrics;
using Gantry.Server.Access;
using Gantry.Server.Reconciler;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>The server itself: liveness and readiness, Prometheus metrics, the API's OpenAPI description, and the event stream.</summary>
public static class SystemEndpoints
{
    public const string EventStreamContentType = "text/event-stream";

    /// <summary>How often an open event stream looks again at the token it was opened with.</summary>
    public static readonly TimeSpan TokenRecheck = TimeSpan.FromSeconds(5);

    public static void Map(WebApplication web, bool describedInPublic, Func<CancellationToken, Task<string>> metricsText)
    {
        var open = new PublicEndpoint();
        object described = describedInPublic ? open : new Requires(Role.Viewer);
        web.MapOpenApi("/api/{documentName}/openapi.json").WithMetadata(described);
        web.MapGet("/health", () => TypedResults.Text("ok\n")).WithMetadata(open).ExcludeFromDescription();
        web.MapGet("/health/ready", Results<ContentHttpResult, ProblemHttpResult> (RolloutReconciler reconciler, Cluster.Leadership leadership) =>
            reconciler.StoreError is { } down ? ProblemResults.For(ProblemCodes.StoreUnavailable, down)
            : reconciler.Passes > 0 && leadership.IsLeader ? TypedResults.Text("ready\n")
            : leadership is { Clustered: true, IsLeader: false, StoreError: { } away } ? ProblemResults.For(ProblemCodes.StoreUnavailable, $"the store: {away}; this replica stands by and cannot take the lead until it is back")
            : leadership is { Clustered: true, Known: true, IsLeader: false } ? TypedResults.Text($"ready (standby: replica {leadership.Lease?.Holder} leads)\n")
            : ProblemResults.For(ProblemCodes.Starting, "the first reconcile pass has not finished")).WithMetadata(open).ExcludeFromDescription();
        web.MapGet(ApiRoutes.Base + ApiRoutes.Cluster, async (Cluster.Leadership leadership, Core.Cluster.IFleetStore fleet, TimeProvider time, CancellationToken ct) =>
            TypedResults.Ok(await ClusterAsync(leadership, fleet, time, ct)))
            .WithName("Cluster").WithMetadata(new Requires(Role.Viewer));
        web.MapGet("/metrics", async (CancellationToken ct) => TypedResults.Text(await metricsText(ct), PrometheusWriter.ContentType)).WithMetadata(described).ExcludeFromDescription();

        web.MapGet(ApiRoutes.Base + ApiRoutes.Events, async (string? rollout, long? after, HttpContext http, IRolloutStore store, ITokenStore tokens, ReconcilerSignals signals, TimeProvider time, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime, CancellationToken ct) =>
        {
            // A stream ends when its client goes or the server stops: an open stream must not hold the server's stop
            // until the host's shutdown timeout (the client connects again, from its Last-Event-ID).
            using var open = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
            await StreamAsync(http, store, tokens, signals, time, rollout, after, open.Token);
        })
            .WithName("StreamEvents").WithMetadata(new Requires(Role.Viewer)).Produces<StoredEvent>(StatusCodes.Status200OK, EventStreamContentType);
    }

    private static async Task<ClusterView> ClusterAsync(Cluster.Leadership leadership, Core.Cluster.IFleetStore fleet, TimeProvider time, CancellationToken ct)
    {
        var view = new ClusterView(leadership.Replica, leadership.Clustered, leadership.IsLeader, leadership.Clustered ? leadership.Lease?.Holder : leadership.Replica, leadership.Lease?.Token, leadership.Lease?.ExpiresAt);
        if (!leadership.Clustered)
        {
            return view;
        }

        var now = time.GetUtcNow();
        var table = await fleet.PublishedTableAsync(ct);
        var replicas = await fleet.ReplicasAsync(ct);
        return view with
        {
            Table = table?.Version,
            TablePublisher = table?.Publisher,
            Replicas = [.. replicas.Select(r => new ReplicaView(r.Name, r.Alive(now, Cluster.FleetRouter.Liveness), r.SeenAt, r.TableVersion, r.TableError))],
        };
    }

    /// <summary>
    /// Server-sent events: every stored event after <c>after</c> (or Last-Event-ID), then new ones as they are
    /// committed; <c>after=-1</c> skips what is stored and sends only what comes next (the dashboard's first connect).
    /// </summary>
    private static async Task StreamAsync(HttpContext http, IRolloutStore store, ITokenStore tokens, ReconcilerSignals signals, TimeProvider time, string? rollout, long? after, CancellationToken ct)
    {
        var token = AccessControl.CallerOf(http)?.TokenId;
        var checkedAt = time.GetUtcNow();
        var last = after ?? (long.TryParse(http.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0);
        if (last < 0)
        {
            last = await store.LastEventIdAsync(ct);
        }

        http.Response.ContentType = EventStreamContentType;
        http.Response.Headers.CacheControl = "no-cache";
        await http.Response.Body.FlushAsync(ct);
        var idle = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (time.GetUtcNow() - checkedAt >= TokenRecheck)
                {
                    // A stream outlives the check made when it opened: a token revoked or expired since ends it, and the
                    // client's next connect is refused (401).
                    checkedAt = time.GetUtcNow();
                    if (token is not null && (await tokens.TokenAsync(token, ct) is not { RevokedAt: null } valid || valid.IsExpired(checkedAt)))
                    {
                        return;
                    }
                }

                var events = await store.EventsAsync(last, rollout, 500, ct);
                foreach (var e in events)
                {
                    var data = JsonSerializer.Serialize(e, GantryJson.Options);
                    await http.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"id: {e.Id}\nevent: {e.Type}\ndata: {data}\n\n"), Encoding.UTF8, ct);
                    last = e.Id;
                }

                if (events.Count > 0)
                {
                    await http.Response.Body.FlushAsync(ct);
                    idle = 0;
                    continue;
                }

                await signals.Committed.WaitAsync(TimeSpan.FromSeconds(1), time, ct);
                if (++idle >= 15)
                {
                    await http.Response.WriteAsync(":keep-alive\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                    idle = 0;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away, or the server stops.
        }
    }
}
