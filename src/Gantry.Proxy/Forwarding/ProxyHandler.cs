using Gantry.Proxy.Metrics;
using Gantry.Proxy.Routing;
using Microsoft.AspNetCore.Http;

namespace Gantry.Proxy.Forwarding;

/// <summary>
/// Handles one front request: finds the route in the current snapshot, splits, picks an instance,
/// forwards, mirrors a share without delaying the client, and records metrics at every level.
/// </summary>
public sealed class ProxyHandler(Func<CompiledTable> current, IForwarder forwarder, TimeProvider time, TableSwaps? swaps = null, Func<CompiledTable?>? coming = null)
{
    private readonly TableSwaps swaps = swaps ?? new TableSwaps();

    /// <summary>Bodies up to this size are buffered so that a mirrored copy can be sent; larger ones are not mirrored.</summary>
    public const int MaxMirroredBody = 64 * 1024;

    /// <summary>The first other group of the route with a share of the traffic and an available instance, and that instance; (the group, -1) when none has one.</summary>
    private static (CompiledGroup Group, int Index) Fallback(CompiledRoute route, CompiledGroup empty)
    {
        foreach (var other in route.Groups)
        {
            if (!ReferenceEquals(other, empty) && other.Spec.Weight > 0 && other.Balancer.Pick(other.Instances) is var index and >= 0)
            {
                return (other, index);
            }
        }

        return (empty, -1);
    }

    /// <summary>The maintenance answer: 503, Retry-After, and the message as JSON or as a small HTML page, as the client accepts.</summary>
    private static async Task MaintenanceAsync(HttpContext context, MaintenanceSpec maintenance)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = maintenance.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers.CacheControl = "no-store";
        var accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains("html", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            var text = System.Net.WebUtility.HtmlEncode(maintenance.Message);
            await context.Response.WriteAsync($"<!doctype html><html><head><meta charset=\"utf-8\"><title>Maintenance</title></head><body><h1>Maintenance</h1><p>{text}</p></body></html>\n", context.RequestAborted);
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(new { status = 503, maintenance = true, message = maintenance.Message }) + "\n", context.RequestAborted);
    }

    /// <summary>Takes a token of the client's bucket; over its limit, answers 429 with when to try again.</summary>
    private static bool Admit(HttpContext context, System.Threading.RateLimiting.PartitionedRateLimiter<System.Net.IPAddress> limiter)
    {
        using var lease = limiter.AttemptAcquire(context.Connection.RemoteIpAddress ?? System.Net.IPAddress.None);
        if (lease.IsAcquired)
        {
            return true;
        }

        var wait = lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return false;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var route = current().Find(context.Connection.LocalPort, context.Request.Host, context.Request.Path)
            ?? coming?.Invoke()?.Find(context.Connection.LocalPort, context.Request.Host, context.Request.Path);
        if (route is null)
        {
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status404NotFound, $"no route for {context.Request.Host}{context.Request.Path}");
            return;
        }

        if (route.Spec.Pause is not null)
        {
            var held = time.GetTimestamp();
            var paused = route;
            route = await RequestHold.HoldAsync(context, route, current, swaps, time);
            if (route is null)
            {
                // Answered 503 at the limit (or the client left while held).
                if (context.Response.HasStarted)
                {
                    Record(paused.Metrics, paused.Metrics, null, StatusCodes.Status503ServiceUnavailable, held, 0, 0, groupToo: false);
                }

                return;
            }
        }

        if (route.Spec.Maintenance is { } maintenance)
        {
            await MaintenanceAsync(context, maintenance);
            Record(route.Metrics, route.Metrics, null, StatusCodes.Status503ServiceUnavailable, time.GetTimestamp(), 0, 0, groupToo: false);
            return;
        }

        if (route.RateLimiter is { } limiter && !Admit(context, limiter))
        {
            Record(route.Metrics, route.Metrics, null, StatusCodes.Status429TooManyRequests, time.GetTimestamp(), 0, 0, groupToo: false);
            return;
        }

        var decision = route.Choose(context.Request);
        if (decision.NewStickyCookie is { } cookie)
        {
            context.Response.Cookies.Append(route.Spec.Sticky!.Cookie!, cookie, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, Path = "/" });
        }

        var group = decision.Group;
        var index = group.Balancer.Pick(group.Instances);
        var started = time.GetTimestamp();
        if (index < 0)
        {
            // Its group has no available instance (all ejected or draining for a moment): another group serves
            // the request rather than a 503, as a group without ready instances gives its share to the others.
            (group, index) = Fallback(route, group);
        }

        if (index < 0)
        {
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, $"no available instance in group '{group.Name}' of route '{route.Spec.Name}'");
            Record(route.Metrics, group.Metrics, null, StatusCodes.Status503ServiceUnavailable, started, 0, 0);
            return;
        }

        byte[]? buffered = null;
        if (route.MirrorGroup is { } mirrorGroup && route.ShouldMirror(context.Request))
        {
            buffered = await TryBufferAsync(context.Request);
            if (buffered is not null || !HttpForwarder.HasBody(context.Request))
            {
                _ = MirrorAsync(context, route, mirrorGroup, buffered);
            }
        }

        var instance = group.Instances[index];
        instance.RequestStarted();
        var result = default(ForwardResult);
        try
        {
            result = await forwarder.ForwardAsync(context, instance, route.Spec.Timeout, buffered);
        }
        finally
        {
            instance.RequestEnded(result.IsClientFault ? null : result.IsGatewayFailure, route.Spec.PassiveHealth);
        }

        var status = result.Outcome == ForwardOutcome.Answered ? result.Status : result.Outcome == ForwardOutcome.ClientAborted ? 499 : result.Status;
        Record(route.Metrics, group.Metrics, group.InstanceMetrics[index], status, started, result.RequestBytes, result.ResponseBytes);
    }

    private void Record(TrafficMetrics route, TrafficMetrics group, TrafficMetrics? instance, int status, long started, long bytesIn, long bytesOut, bool groupToo = true)
    {
        var micros = (long)(time.GetElapsedTime(started).TotalMilliseconds * 1000);
        route.Record(status, micros, bytesIn, bytesOut);
        if (groupToo)
        {
            group.Record(status, micros, bytesIn, bytesOut);
        }

        instance?.Record(status, micros, bytesIn, bytesOut);
    }

    private static async Task<byte[]?> TryBufferAsync(HttpRequest request)
    {
        if (!HttpForwarder.HasBody(request))
        {
            return null;
        }

        if (request.ContentLength is not { } length || length > MaxMirroredBody)
        {
            return null;
        }

        var body = new byte[length];
        await request.Body.ReadExactlyAsync(body, request.HttpContext.RequestAborted);
        return body;
    }

    /// <summary>Sends the copy; its answer is read and discarded, its failures are recorded and never reach the client.</summary>
    private async Task MirrorAsync(HttpContext original, CompiledRoute route, CompiledGroup group, byte[]? body)
    {
        var index = group.Balancer.Pick(group.Instances);
        if (index < 0)
        {
            return;
        }

        var started = time.GetTimestamp();
        var status = 0;
        try
        {
            // Only bodiless or buffered requests are mirrored, so the copy never reads the client's stream.
            using var message = HttpForwarder.CreateRequest(original, group.Instances[index], upgrade: false, body, out _);
            message.Headers.TryAddWithoutValidation("X-Gantry-Mirror", "1");

            using var cts = new CancellationTokenSource(route.Spec.Timeout, time);
            using var response = await forwarder.SendRawAsync(message, cts.Token);
            status = (int)response.StatusCode;
            await response.Content.CopyToAsync(Stream.Null, cts.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            status = 0;
        }

        var micros = (long)(time.GetElapsedTime(started).TotalMilliseconds * 1000);
        group.Metrics.Record(status, micros, body?.Length ?? 0, 0);
        group.InstanceMetrics[index].Record(status, micros, body?.Length ?? 0, 0);
    }
}
