using System.Net;
using Gantry.Proxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gantry.Proxy.Forwarding;

/// <summary>
/// Forwarding on YARP's direct forwarder (<see cref="IHttpForwarder"/>): YARP streams the bodies, tunnels upgrades,
/// removes hop-by-hop headers and classifies failures; Gantry keeps the choice of instance, the headers the instance
/// sees (its Host, X-Forwarded-*, spoofable ones replaced), the one-line answers to failures, and the outcome that
/// passive health and metrics count.
/// </summary>
public sealed class YarpForwarder : IForwarder
{
    private readonly IHttpForwarder forwarder;
    private readonly ServiceProvider services;
    private readonly HttpMessageInvoker client;

    public YarpForwarder(TimeSpan connectTimeout)
    {
        services = new ServiceCollection().AddLogging(l => l.ClearProviders()).AddHttpForwarder().BuildServiceProvider();
        forwarder = services.GetRequiredService<IHttpForwarder>();
        client = HttpForwarder.CreateClient(connectTimeout);
    }

    public Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage message, CancellationToken ct) => client.SendAsync(message, ct);

    public async Task<ForwardResult> ForwardAsync(HttpContext context, InstanceState instance, TimeSpan timeout, byte[]? bufferedBody)
    {
        var request = context.Request;
        HttpForwarder.CountingStream? body = null;
        if (bufferedBody is not null)
        {
            // Read already for a mirrored copy: the instance gets the same bytes.
            request.Body = new MemoryStream(bufferedBody, writable: false);
        }
        else if (HttpForwarder.HasBody(request))
        {
            request.Body = body = new HttpForwarder.CountingStream(request.Body);
        }

        var counted = new ResponseBytes();
        context.Features.Set(counted);
        var config = new ForwarderRequestConfig { ActivityTimeout = timeout, Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        var error = await forwarder.SendAsync(context, instance.BaseAddress, client, config, GantryTransformer.Instance, instance.DrainToken);
        var read = bufferedBody?.Length ?? body?.BytesRead ?? 0;
        if (error == ForwarderError.None)
        {
            var status = context.Response.StatusCode;
            return new ForwardResult(ForwardOutcome.Answered, status, read, status == StatusCodes.Status101SwitchingProtocols ? 0 : counted.Count);
        }

        return await FailedAsync(context, instance, error, timeout, body, read);
    }

    /// <summary>What a YARP error means for the client, the instance's health and the metrics; answered with a line naming the cause while nothing was sent yet.</summary>
    private static async Task<ForwardResult> FailedAsync(HttpContext context, InstanceState instance, ForwarderError error, TimeSpan timeout, HttpForwarder.CountingStream? body, long read)
    {
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (context.RequestAborted.IsCancellationRequested)
        {
            return new ForwardResult(ForwardOutcome.ClientAborted, 499, read, 0);
        }

        if (error is ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseClient)
        {
            var fault = exception is null ? null : HttpForwarder.ClientFault(exception, body);
            if (fault is null)
            {
                return new ForwardResult(ForwardOutcome.ClientAborted, 499, read, 0);
            }

            await HttpForwarder.WriteErrorAsync(context, fault.Value.Status, fault.Value.Message);
            return new ForwardResult(ForwardOutcome.ClientError, fault.Value.Status, read, 0);
        }

        var started = context.Response.HasStarted;
        var (outcome, status, message) = error switch
        {
            _ when instance.DrainToken.IsCancellationRequested => (ForwardOutcome.Drained, StatusCodes.Status502BadGateway, $"upstream {instance.Authority} was removed and drained before it answered"),
            ForwarderError.RequestTimedOut => (ForwardOutcome.UpstreamTimedOut, StatusCodes.Status504GatewayTimeout, $"upstream {instance.Authority} did not answer within {timeout.TotalSeconds:0.###}s"),
            _ when exception?.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } =>
                (ForwardOutcome.UpstreamFailed, StatusCodes.Status502BadGateway, $"upstream {instance.Authority} refused the connection"),
            _ => (ForwardOutcome.UpstreamFailed, StatusCodes.Status502BadGateway, $"upstream {instance.Authority} failed: {exception?.InnerException?.Message ?? exception?.Message ?? error.ToString()}"),
        };
        if (started)
        {
            // The answer had begun: the only honest thing left is to break the client's connection.
            context.Abort();
            return new ForwardResult(outcome, context.Response.StatusCode, read, 0);
        }

        await HttpForwarder.WriteErrorAsync(context, status, message);
        return new ForwardResult(outcome, status, read, 0);
    }

    public void Dispose()
    {
        client.Dispose();
        services.Dispose();
    }

    /// <summary>The bytes of the instance's answer that reached the client, counted as YARP copies them.</summary>
    private sealed class ResponseBytes
    {
        public long Count;
    }

    /// <summary>
    /// The instance sees the Host the client asked for and where the request came from; what a client says of itself
    /// (Forwarded, X-Real-IP) or of the router (X-Gantry-Mirror) is replaced. h2c upgrades are never tunnelled.
    /// </summary>
    private sealed class GantryTransformer : HttpTransformer
    {
        public static readonly GantryTransformer Instance = new();

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            var request = httpContext.Request;
            var headers = proxyRequest.Headers;

            // Headers the client names in Connection are hop-by-hop too (RFC 9110, 7.6.1).
            foreach (var listed in Listed(request.Headers.Connection.ToString()))
            {
                headers.Remove(listed);
                proxyRequest.Content?.Headers.Remove(listed);
            }

            if (HopByHop.IsH2c(request.Headers.Upgrade))
            {
                headers.Remove("Upgrade");
                headers.Remove("HTTP2-Settings");
            }

            headers.Host = request.Host.Value;
            foreach (var spoofable in HopByHop.Replaced)
            {
                headers.Remove(spoofable);
            }

            var clientIp = httpContext.Connection.RemoteIpAddress?.ToString();
            headers.TryAddWithoutValidation("X-Real-IP", clientIp);
            var forwardedFor = request.Headers["X-Forwarded-For"].ToString();
            headers.Remove("X-Forwarded-For");
            headers.TryAddWithoutValidation("X-Forwarded-For", string.IsNullOrEmpty(forwardedFor) ? clientIp : $"{forwardedFor}, {clientIp}");
            headers.Remove("X-Forwarded-Proto");
            headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
            headers.Remove("X-Forwarded-Host");
            headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            if (proxyResponse is not null && proxyResponse.Headers.NonValidated.TryGetValues("Connection", out var connection))
            {
                foreach (var listed in Listed(connection.ToString()))
                {
                    httpContext.Response.Headers.Remove(listed);
                }
            }

            // An upgraded connection's content is the two-way tunnel: left as it is.
            if (proxyResponse is { StatusCode: not HttpStatusCode.SwitchingProtocols, Content: { } content } && httpContext.Features.Get<ResponseBytes>() is { } counted)
            {
                proxyResponse.Content = new CountingContent(content, counted);
            }

            return copy;
        }
    }

    /// <summary>The header names a Connection header lists, other than its own keywords.</summary>
    private static IEnumerable<string> Listed(string connection) =>
        string.IsNullOrEmpty(connection) ? [] : connection.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(t => !t.Equals("close", StringComparison.OrdinalIgnoreCase) && !t.Equals("keep-alive", StringComparison.OrdinalIgnoreCase) && !t.Equals("upgrade", StringComparison.OrdinalIgnoreCase));

    /// <summary>The instance's answer body as YARP reads it, counted.</summary>
    private sealed class CountingContent(HttpContent inner, ResponseBytes counted) : HttpContent
    {
        protected override async Task<Stream> CreateContentReadStreamAsync() => new CountingReadStream(await inner.ReadAsStreamAsync(), counted);

        protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => CreateContentReadStreamAsync();

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => inner.CopyToAsync(stream, context);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class CountingReadStream(Stream inner, ResponseBytes counted) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => counted.Count; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Add(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Add(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Add(int read)
        {
            counted.Count += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
