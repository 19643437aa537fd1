using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Gantry.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Tests;

/// <summary>A real HTTP server on a free loopback port that the router forwards to, recording what it saw.</summary>
public sealed class Upstream : IAsyncDisposable
{
    private readonly WebApplication app;

    private Upstream(WebApplication app, string name, int port)
    {
        this.app = app;
        Name = name;
        Address = new Endpoint("127.0.0.1", port);
    }

    public string Name { get; }

    public Endpoint Address { get; }

    public ConcurrentQueue<string> Paths { get; } = new();

    public int Requests => Paths.Count;

    public int MirroredRequests => Paths.Count(p => p.StartsWith("mirror:", StringComparison.Ordinal));

    /// <summary>Set when a request's RequestAborted fired (the router cancelled it).</summary>
    public TaskCompletionSource Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<Upstream> StartAsync(string name)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, port);
            o.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var upstream = new Upstream(app, name, port);
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            upstream.Paths.Enqueue((context.Request.Headers.ContainsKey("X-Gantry-Mirror") ? "mirror:" : string.Empty) + context.Request.Path);
            await next(context);
        });
        app.MapGet("/who", () => Results.Text(name));
        app.Map("/echo/{**rest}", async (HttpContext c) =>
        {
            using var reader = new StreamReader(c.Request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = c.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            return Results.Json(new Dictionary<string, object>
            {
                ["who"] = name,
                ["method"] = c.Request.Method,
                ["path"] = c.Request.Path.Value ?? string.Empty,
                ["query"] = c.Request.QueryString.Value ?? string.Empty,
                ["body"] = body,
                ["headers"] = headers,
            });
        });
        app.MapGet("/status/{code:int}", (int code, HttpContext c) =>
        {
            c.Response.Headers["X-Upstream"] = name;
            return code is 204 or 304 ? Results.StatusCode(code) : Results.Text($"status {code}", statusCode: code);
        });
        app.MapGet("/chunked", async (HttpContext c) =>
        {
            for (var i = 0; i < 5; i++)
            {
                await c.Response.WriteAsync($"chunk {i}\n");
                await c.Response.Body.FlushAsync();
            }
        });
        app.MapGet("/download/{megabytes:int}", async (int megabytes, HttpContext c) =>
        {
            var block = new byte[1024 * 1024];
            c.Response.ContentLength = (long)megabytes * block.Length;
            for (var i = 0; i < megabytes; i++)
            {
                await c.Response.Body.WriteAsync(block, c.RequestAborted);
            }
        });
        app.MapPost("/upload", async (HttpContext c) =>
        {
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await c.Request.Body.ReadAsync(buffer, c.RequestAborted)) > 0)
            {
                total += read;
            }

            return Results.Text(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        app.MapPost("/slow-read", async (HttpContext c) =>
        {
            try
            {
                var buffer = new byte[1024];
                while (await c.Request.Body.ReadAsync(buffer, c.RequestAborted) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
            {
                upstream.Aborted.TrySetResult();
            }

            return Results.Ok();
        });
        app.MapGet("/slow/{ms:int}", async (int ms, HttpContext c) =>
        {
            try
            {
                await Task.Delay(ms, c.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                upstream.Aborted.TrySetResult();
                throw;
            }

            return Results.Text(name);
        });
        app.Map("/ws", async (HttpContext c) =>
        {
            if (!c.WebSockets.IsWebSocketRequest)
            {
                return Results.BadRequest();
            }

            using var socket = await c.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    break;
                }

                var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
                await socket.SendAsync(Encoding.UTF8.GetBytes($"{name}:{text}"), WebSocketMessageType.Text, true, CancellationToken.None);
            }

            return Results.Empty;
        });
        app.MapFallback(() => Results.Text($"fallback {name}", statusCode: StatusCodes.Status404NotFound));
        await app.StartAsync();
        return upstream;
    }

    public static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
