using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Gantry.Proxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Gantry.Proxy.Forwarding;

/// <summary>How a forwarded request ended.</summary>
public enum ForwardOutcome
{
    /// <summary>The upstream answered (any status) and the answer reached the client.</summary>
    Answered,

    /// <summary>The upstream refused the connection or broke it before answering (502).</summary>
    UpstreamFailed,

    /// <summary>The upstream did not answer in time (504).</summary>
    UpstreamTimedOut,

    /// <summary>The client went away; the upstream request was cancelled.</summary>
    ClientAborted,

    /// <summary>The instance was drained and its in-flight request cancelled.</summary>
    Drained,

    /// <summary>The client sent a malformed body (400) or sent it too slowly (408): nothing the instance did.</summary>
    ClientError,
}

/// <summary>The outcome, the status the client saw, and the bytes each way.</summary>
public readonly record struct ForwardResult(ForwardOutcome Outcome, int Status, long RequestBytes, long ResponseBytes)
{
    /// <summary>Counts towards passive ejection: the instance could not serve the request.</summary>
    public bool IsGatewayFailure => Outcome is ForwardOutcome.UpstreamFailed or ForwardOutcome.UpstreamTimedOut
        || (Outcome == ForwardOutcome.Answered && Status is StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout);

    /// <summary>The client's doing (a bad or slow body, going away): it says nothing of the instance's health either way.</summary>
    public bool IsClientFault => Outcome is ForwardOutcome.ClientError or ForwardOutcome.ClientAborted;
}

/// <summary>
/// Forwards one request to one instance over pooled HTTP/1.1 keep-alive connections, streaming bodies
/// both ways, and answers upstream failures itself with 502 or 504 and a one-line plain body.
/// </summary>
public sealed class HttpForwarder : IForwarder
{
    private const int BufferSize = 64 * 1024;
    private readonly HttpMessageInvoker client;
    private readonly TimeProvider time;

    public HttpForwarder(TimeSpan connectTimeout, TimeProvider time)
    {
        this.time = time;
        client = CreateClient(connectTimeout);
    }

    /// <summary>The pooled client to instances: no proxy, redirects, decompression, cookies or trace headers of its own.</summary>
    internal static HttpMessageInvoker CreateClient(TimeSpan connectTimeout) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ActivityHeadersPropagator = null,
        ConnectTimeout = connectTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        EnableMultipleHttp2Connections = true,
    });

    public void Dispose() => client.Dispose();

    /// <summary>Sends a prepared request on the same connection pool (used for mirrored copies).</summary>
    public Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage message, CancellationToken ct) => client.SendAsync(message, ct);

    public async Task<ForwardResult> ForwardAsync(HttpContext context, InstanceState instance, TimeSpan timeout, byte[]? bufferedBody)
    {
        var request = context.Request;
        // h2c upgrades are never tunnelled (a way past the router's own rules, as request smugglers use it): such a request goes on as plain HTTP/1.1.
        var upgrade = context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } feature && !HopByHop.IsH2c(request.Headers.Upgrade) ? feature : null;
        using var message = CreateRequest(context, instance, upgrade is not null, bufferedBody, out var requestBody);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, instance.DrainToken);
        using var deadline = time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), cts, timeout, Timeout.InfiniteTimeSpan);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(message, cts.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            return await FailAsync(context, instance, ex, timeout, requestBody);
        }

        using (response)
        {
            // Headers are in: the timeout no longer applies, the body may stream for as long as it needs.
            deadline.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            var status = (int)response.StatusCode;
            if (upgrade is not null && response.StatusCode == HttpStatusCode.SwitchingProtocols)
            {
                return await TunnelAsync(context, upgrade, response, cts.Token);
            }

            context.Response.StatusCode = status;
            CopyResponseHeaders(response, context.Response);
            long sent;
            try
            {
                sent = await CopyAsync(await response.Content.ReadAsStreamAsync(cts.Token), context.Response.Body, cts.Token);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or HttpRequestException)
            {
                // The answer has started; the only honest thing left is to break the client's connection.
                context.Abort();
                var outcome = context.RequestAborted.IsCancellationRequested ? ForwardOutcome.ClientAborted
                    : instance.DrainToken.IsCancellationRequested ? ForwardOutcome.Drained : ForwardOutcome.UpstreamFailed;
                return new ForwardResult(outcome, status, requestBody?.BytesRead ?? 0, 0);
            }

            return new ForwardResult(ForwardOutcome.Answered, status, requestBody?.BytesRead ?? bufferedBody?.Length ?? 0, sent);
        }
    }

    /// <summary>The upstream request for a client request: path, query, headers less hop-by-hop ones, X-Forwarded-*, body.</summary>
    internal static HttpRequestMessage CreateRequest(HttpContext context, InstanceState instance, bool upgrade, byte[]? bufferedBody, out CountingStream? requestBody)
    {
        var request = context.Request;
        var message = new HttpRequestMessage(HttpMethod.Parse(request.Method), new Uri(string.Concat(instance.BaseAddress, request.PathBase.ToUriComponent(), request.Path.ToUriComponent(), request.QueryString.ToUriComponent())))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        requestBody = null;
        if (bufferedBody is not null)
        {
            message.Content = new ByteArrayContent(bufferedBody);
        }
        else if (HasBody(request))
        {
            requestBody = new CountingStream(request.Body);
            message.Content = new StreamContent(requestBody, BufferSize);
        }

        var connection = request.Headers.Connection.ToString();
        foreach (var header in request.Headers)
        {
            if (HopByHop.IsHopByHop(header.Key) || HopByHop.IsListedIn(connection, header.Key))
            {
                continue;
            }

            // Single values (nearly all headers) go in as strings, without boxing the StringValues.
            var added = header.Value.Count == 1
                ? message.Headers.TryAddWithoutValidation(header.Key, header.Value[0])
                : message.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value);
            if (!added && message.Content is not null)
            {
                _ = header.Value.Count == 1
                    ? message.Content.Headers.TryAddWithoutValidation(header.Key, header.Value[0])
                    : message.Content.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value);
            }
        }

        if (upgrade)
        {
            message.Headers.TryAddWithoutValidation(HeaderNames.Connection, "Upgrade");
            message.Headers.TryAddWithoutValidation(HeaderNames.Upgrade, (IEnumerable<string>)request.Headers.Upgrade!);
        }

        // The upstream sees the Host the client asked for, and where the request came from. What a client says of
        // itself (Forwarded, X-Real-IP) or of the router (X-Gantry-Mirror) is replaced, never passed on.
        message.Headers.Host = request.Host.Value;
        var clientIp = context.Connection.RemoteIpAddress?.ToString();
        foreach (var spoofable in HopByHop.Replaced)
        {
            message.Headers.Remove(spoofable);
        }

        message.Headers.TryAddWithoutValidation("X-Real-IP", clientIp);
        var forwardedFor = request.Headers["X-Forwarded-For"].ToString();
        message.Headers.Remove("X-Forwarded-For");
        message.Headers.TryAddWithoutValidation("X-Forwarded-For", string.IsNullOrEmpty(forwardedFor) ? clientIp : $"{forwardedFor}, {clientIp}");
        message.Headers.Remove("X-Forwarded-Proto");
        message.Headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        message.Headers.Remove("X-Forwarded-Host");
        message.Headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
        return message;
    }

    /// <summary>Whether the client sends a body: a length, chunked encoding, or an HTTP/2 stream that may carry data.</summary>
    internal static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0) || (request.ContentLength is null && request.Protocol == "HTTP/2" && request.Method is not "GET" and not "HEAD");

    private static void CopyResponseHeaders(HttpResponseMessage response, HttpResponse target)
    {
        // NonValidated views read the raw values without parsing them, and single values need no array.
        var connection = response.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var c) ? c.ToString() : null;
        foreach (var header in response.Headers.NonValidated)
        {
            if (!HopByHop.IsHopByHop(header.Key) && !HopByHop.IsListedIn(connection, header.Key))
            {
                target.Headers[header.Key] = header.Value.Count == 1 ? header.Value.ToString() : header.Value.ToArray();
            }
        }

        foreach (var header in response.Content.Headers.NonValidated)
        {
            target.Headers[header.Key] = header.Value.Count == 1 ? header.Value.ToString() : header.Value.ToArray();
        }
    }

    private static async Task<long> CopyAsync(Stream source, Stream destination, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, ct)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), ct);
                total += read;
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<ForwardResult> TunnelAsync(HttpContext context, IHttpUpgradeFeature upgrade, HttpResponseMessage response, CancellationToken ct)
    {
        context.Response.StatusCode = StatusCodes.Status101SwitchingProtocols;
        CopyResponseHeaders(response, context.Response);
        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = string.Join(',', response.Headers.Upgrade);
        await using var upstream = await response.Content.ReadAsStreamAsync(ct);
        await using var downstream = await upgrade.UpgradeAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var up = CopyAsync(downstream, upstream, stop.Token);
        var down = CopyAsync(upstream, downstream, stop.Token);
        long sent = 0;
        try
        {
            var first = await Task.WhenAny(up, down);
            sent = first == down ? await down : 0;
            await stop.CancelAsync();
            await Task.WhenAll(up, down).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // One side closed; the tunnel is over.
        }

        return new ForwardResult(ForwardOutcome.Answered, StatusCodes.Status101SwitchingProtocols, up.IsCompletedSuccessfully ? up.Result : 0, down.IsCompletedSuccessfully ? down.Result : sent);
    }

    private static async Task<ForwardResult> FailAsync(HttpContext context, InstanceState instance, Exception ex, TimeSpan timeout, CountingStream? body)
    {
        var read = body?.BytesRead ?? 0;
        if (context.RequestAborted.IsCancellationRequested)
        {
            return new ForwardResult(ForwardOutcome.ClientAborted, 499, read, 0);
        }

        // A malformed or too slow request body is the client's fault, as nginx, HAProxy and Envoy see it: answered
        // 400 or 408, never counted against the instance or in its error rate.
        if (ClientFault(ex, body) is { } fault)
        {
            await WriteErrorAsync(context, fault.Status, fault.Message);
            return new ForwardResult(ForwardOutcome.ClientError, fault.Status, read, 0);
        }

        if (instance.DrainToken.IsCancellationRequested)
        {
            await WriteErrorAsync(context, StatusCodes.Status502BadGateway, $"upstream {instance.Authority} was removed and drained before it answered");
            return new ForwardResult(ForwardOutcome.Drained, StatusCodes.Status502BadGateway, read, 0);
        }

        if (ex is OperationCanceledException || ex.InnerException is TimeoutException)
        {
            await WriteErrorAsync(context, StatusCodes.Status504GatewayTimeout, $"upstream {instance.Authority} did not answer within {timeout.TotalSeconds:0.###}s");
            return new ForwardResult(ForwardOutcome.UpstreamTimedOut, StatusCodes.Status504GatewayTimeout, read, 0);
        }

        var cause = ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
            ? "refused the connection"
            : "failed: " + (ex.InnerException?.Message ?? ex.Message);
        await WriteErrorAsync(context, StatusCodes.Status502BadGateway, $"upstream {instance.Authority} {cause}");
        return new ForwardResult(ForwardOutcome.UpstreamFailed, StatusCodes.Status502BadGateway, read, 0);
    }

    /// <summary>The client's part in a failed forward: a body Kestrel found malformed, or a body still awaited from the client when time ran out.</summary>
    internal static (int Status, string Message)? ClientFault(Exception ex, CountingStream? body)
    {
        for (var e = (Exception?)ex; e is not null; e = e.InnerException)
        {
            if (e is ClientBodyException { InnerException: not BadHttpRequestException } unreadable)
            {
                return (StatusCodes.Status400BadRequest, "malformed request body: " + unreadable.InnerException!.Message);
            }

            if (e is BadHttpRequestException bad)
            {
                return bad.StatusCode == StatusCodes.Status408RequestTimeout
                    ? (StatusCodes.Status408RequestTimeout, "the request body did not arrive in time")
                    : (bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : StatusCodes.Status400BadRequest, "malformed request body: " + bad.Message);
            }
        }

        return ex is OperationCanceledException && body is { WaitingOnClient: true }
            ? (StatusCodes.Status408RequestTimeout, "the request body did not arrive in time")
            : null;
    }

    /// <summary>A short plain-text answer that names the cause.</summary>
    public static async Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }

    /// <summary>The client's request body could not be read (malformed framing, a broken upload).</summary>
    internal sealed class ClientBodyException(Exception inner) : IOException(inner.Message, inner);

    /// <summary>Counts the bytes read from the client's request body as they stream through.</summary>
    internal sealed class CountingStream(Stream inner) : Stream
    {
        private int waiting;

        public long BytesRead { get; private set; }

        /// <summary>A read from the client started and has not returned data (or the end) yet.</summary>
        public bool WaitingOnClient => Volatile.Read(ref waiting) == 1;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Volatile.Write(ref waiting, 1);
            return Count(inner.Read(buffer, offset, count));
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            // Left set when the read fails: the client was still owed when the request ended.
            Volatile.Write(ref waiting, 1);
            try
            {
                return Count(await inner.ReadAsync(buffer, cancellationToken));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever breaks while reading the client's body is the client's doing, whichever type says so.
                throw new ClientBodyException(ex);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            Volatile.Write(ref waiting, 0);
            BytesRead += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
