using System.Net;
using Gantry.Proxy.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Hosting;

/// <summary>The router's own small HTTP endpoint: <c>/metrics</c> (Prometheus text) and <c>/health</c>.</summary>
public static class AdminServer
{
    public static async Task<WebApplication> StartAsync(Router router, Endpoint address, CancellationToken ct)
    {
        var builder = QuietHosts.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(address.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(address.Host), address.Port));
        var app = builder.Build();
        app.MapGet("/metrics", (HttpContext c) =>
        {
            var window = TimeSpan.FromSeconds(int.TryParse(c.Request.Query["window"], out var s) ? Math.Clamp(s, 1, TrafficMetrics.WindowSeconds) : 30);
            return Results.Text(router.MetricsText(window), PrometheusWriter.ContentType);
        });
        app.MapGet("/health", () => Results.Text("ok\n"));
        await app.StartAsync(ct);
        return app;
    }
}
