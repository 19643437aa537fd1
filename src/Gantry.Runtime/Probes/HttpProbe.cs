using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gantry.Runtime.Probes;

/// <summary>
/// One HTTP probe as kubelet makes it: a connection of its own, <c>GET PATH</c> with <c>Connection: close</c>, the
/// status line read (200-399 passes; a redirect is not followed), the rest of a short answer read to its end so the
/// server sees a clean close, the connection closed. Written on a socket rather than <see cref="HttpClient"/>: a
/// probe is a connection, a write and two reads, where the client's pool, handlers and headers cost several times
/// more CPU per probe (bench/Gantry.Benchmarks <c>probes</c>), and a control plane probes every instance every few
/// seconds. Where the system allows, the exchange itself is made by the <see cref="ProbeLoop"/>, one thread for every
/// probe of the process.
/// </summary>
public sealed class HttpProbe
{
    private const int Buffer = 4096;
    private const int ReadAtMost = 64 * 1024;
    private readonly IPEndPoint? address;
    private readonly byte[]? socketAddress;
    private readonly ProbeLoop? loop;
    private readonly string host;
    private readonly int port;
    private readonly byte[] request;

    /// <summary>A probe of <paramref name="path"/> on <paramref name="host"/>:<paramref name="port"/> (an address, or a name resolved at each probe).</summary>
    public HttpProbe(string host, int port, string path)
        : this(host, port, path, ProbeLoop.Shared)
    {
    }

    /// <summary>A probe made by <paramref name="loop"/>, or on the runtime's asynchronous sockets when it is null.</summary>
    public HttpProbe(string host, int port, string path, ProbeLoop? loop)
    {
        this.loop = loop;
        address = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : null;
        socketAddress = address is null ? null : ProbeSockets.Address(address);
        this.host = host;
        this.port = port;
        var authority = ip is { AddressFamily: AddressFamily.InterNetworkV6 } ? $"[{host}]:{port}" : $"{host}:{port}";
        request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: gantry-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    }

    /// <summary>
    /// The probe made at <paramref name="due"/> (a timestamp of <paramref name="time"/>), false when it is not over
    /// <paramref name="timeout"/> later. A probe loop on the same clock is handed the probe at once and starts it when
    /// it falls due, with no timer of the caller's; otherwise the caller waits on its own clock, then probes.
    /// </summary>
    public async Task<bool> PassesAtAsync(long due, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        if (loop is not null && socketAddress is not null && ReferenceEquals(loop.Time, time))
        {
            return await loop.PassesAsync(socketAddress, request, due, timeout, ct);
        }

        var wait = due - time.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(wait / (double)time.TimestampFrequency), time, ct);
        }

        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
        try
        {
            return await PassesAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false; // timed out
        }
    }

    /// <summary>
    /// The probe made at <paramref name="due"/>, and with <paramref name="steady"/> made again every
    /// <paramref name="interval"/> for as long as its result is that one: the first result that is not (or the first
    /// at all when <paramref name="steady"/> is null), with when its probe started. On a probe loop of the same clock
    /// the repeats are the loop's alone; otherwise the caller probes on its own clock, one probe after another.
    /// </summary>
    public async Task<ProbeResult> WatchAsync(long due, TimeSpan interval, TimeSpan timeout, bool? steady, TimeProvider time, CancellationToken ct)
    {
        if (loop is not null && socketAddress is not null && ReferenceEquals(loop.Time, time))
        {
            return await loop.StartAsync(socketAddress, request, due, timeout, steady is null ? null : interval, steady ?? false, ct);
        }

        while (true)
        {
            var startedAt = Math.Max(due, time.GetTimestamp());
            var passed = await PassesAtAsync(due, timeout, time, ct);
            if (steady is not { } same || passed != same)
            {
                return new ProbeResult(passed, startedAt);
            }

            due = ProbeSchedule.Next(startedAt, interval, time.TimestampFrequency);
        }
    }

    /// <summary>Whether the answer's status is 200-399; false when it cannot connect, the connection breaks or the answer is not HTTP. Cancelled by <paramref name="ct"/> (the probe's timeout).</summary>
    public async ValueTask<bool> PassesAsync(CancellationToken ct)
    {
        IPEndPoint endpoint;
        try
        {
            endpoint = address ?? new IPEndPoint((await Dns.GetHostAddressesAsync(host, ct))[0], port);
        }
        catch (Exception ex) when (ex is SocketException or IndexOutOfRangeException)
        {
            return false; // the name does not resolve
        }

        if (loop is not null)
        {
            return await loop.PassesAsync(socketAddress ?? ProbeSockets.Address(endpoint), request, null, default, ct);
        }

        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var buffer = ArrayPool<byte>.Shared.Rent(Buffer);
        try
        {
            await socket.ConnectAsync(endpoint, ct);
            await socket.SendAsync(request, SocketFlags.None, ct);
            var read = 0;
            int? status = null;
            while (read < ReadAtMost)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(status is null ? read : 0, status is null ? Buffer - read : Buffer), SocketFlags.None, ct);
                if (n == 0)
                {
                    break;
                }

                if (status is null)
                {
                    read += n;
                    status = StatusOf(buffer.AsSpan(0, read));
                    if (status is null && read == Buffer)
                    {
                        return false; // no status line in the first 4 KiB: not HTTP
                    }
                }
                else
                {
                    read += n;
                }
            }

            return status is >= 200 and < 400;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The status of a complete status line (<c>HTTP/1.x SSS ...</c>), 0 when the line is not HTTP; null while the line is incomplete.</summary>
    internal static int? StatusOf(ReadOnlySpan<byte> answer)
    {
        var end = answer.IndexOf((byte)'\n');
        if (end < 0)
        {
            return null;
        }

        var line = answer[..end];
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[8] != (byte)' ' || !char.IsAsciiDigit((char)line[9]) || !char.IsAsciiDigit((char)line[10]) || !char.IsAsciiDigit((char)line[11]))
        {
            return 0;
        }

        return ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
    }
}
