using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gantry.Core.Rollouts;
using Gantry.Proxy.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Proxy.Control;

/// <summary>
/// What a router process says about itself; <paramref name="TookOverAfter"/>: it was the spare and served this long
/// after its predecessor ended (seen on the predecessor's pidfd), null when it was started as the router.
/// </summary>
public sealed record RouterStatus(int Pid, string Version, long TableVersion, DateTimeOffset Started, int Listeners, TimeSpan? TookOverAfter = null)
{
    public bool FromSpare => TookOverAfter is not null;
}

/// <summary>Asks a router to hand its listeners to a new process started with this command (an upgrade).</summary>
public sealed record HandoverRequest(string FileName, IReadOnlyList<string> Arguments);

/// <summary>The process that took over, or why none did (then the old one keeps serving).</summary>
public sealed record HandoverAnswer(bool HandedOver, int? Pid, string? Error);

/// <summary>The admin API's paths.</summary>
public static class RouterAdminRoutes
{
    public const string Status = "/v1/status";
    public const string Table = "/v1/table";
    public const string Measure = "/v1/measure";
    public const string Metrics = "/v1/metrics";
    public const string Handover = "/v1/handover";
}

/// <summary>
/// A router process's admin API, on a unix socket only its owner can open, every call with the router's own bearer
/// token: status, the table (read it back; put a new version, all or nothing), measurements for the control plane's
/// analysis (raw latency samples included), Prometheus text, and handing the listeners over to a successor.
/// </summary>
public static class RouterAdmin
{
    /// <summary>The version a router reports: its Gantry's; a control plane of another version upgrades it.</summary>
    public static string Version { get; } = (typeof(RouterAdmin).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    public static async Task<WebApplication> StartAsync(RouterControl control, RouterFiles files, string token, Func<HandoverRequest, CancellationToken, Task<HandoverAnswer>> handover, TimeProvider time, CancellationToken ct, string? version = null, TimeSpan? tookOverAfter = null)
    {
        var reported = version ?? Version;
        var started = time.GetUtcNow();
        var measurements = new Measurements(control.Router.Metrics);
        var builder = Hosting.QuietHosts.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Services.ConfigureHttpJsonOptions(o => GantryJson.Configure(o.SerializerOptions));
        // Bound under a name of its own, then renamed over the well-known one: a predecessor (an upgrade) keeps its
        // open connections, new ones reach this process, and a predecessor that stops removes only its own name.
        var socket = files.Socket;
        var own = string.Create(CultureInfo.InvariantCulture, $"{socket}.{Environment.ProcessId}");
        File.Delete(own);
        builder.WebHost.UseKestrel(o => o.ListenUnixSocket(own));
        var app = builder.Build();
        var expected = Encoding.UTF8.GetBytes("Bearer " + token);
        app.Use(async (context, next) =>
        {
            var given = Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString());
            if (!CryptographicOperations.FixedTimeEquals(given, expected))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(context);
        });
        app.MapGet(RouterAdminRoutes.Status, () => new RouterStatus(Environment.ProcessId, reported, control.Current.Version, started, control.Current.Routes.Select(r => r.Listen).Distinct().Count(), tookOverAfter));
        app.MapGet(RouterAdminRoutes.Table, () => control.Current);
        app.MapPut(RouterAdminRoutes.Table, async (RouteTable table, CancellationToken token) =>
        {
            var answer = await control.ApplyAsync(table, token);
            return answer.Applied ? Results.Ok(answer) : Results.UnprocessableEntity(answer);
        });
        app.MapPost(RouterAdminRoutes.Measure, (MeasureRequest request) => measurements.Measure(request));
        app.MapGet(RouterAdminRoutes.Metrics, (HttpContext c) =>
        {
            var window = TimeSpan.FromSeconds(int.TryParse(c.Request.Query["window"], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? Math.Clamp(s, 1, TrafficMetrics.WindowSeconds) : 30);
            return Results.Text(PrometheusWriter.Write(control.Router.Metrics, window), PrometheusWriter.ContentType);
        });
        app.MapPost(RouterAdminRoutes.Handover, (HandoverRequest request, CancellationToken token) => handover(request, token));
        await app.StartAsync(ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(own, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(own, socket, overwrite: true);
        return app;
    }
}
