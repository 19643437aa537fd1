using System.Buffers;
using static Gantry.Runtime.Probes.ProbeSockets;

namespace Gantry.Runtime.Probes;

/// <summary>The probe loop's exchanges on their non-blocking sockets: connect, write the request, read the answer.</summary>
public sealed partial class ProbeLoop
{
    /// <summary>Opens and connects; true when the exchange is already over (its <see cref="ProbeExchange.Passed"/> says how).</summary>
    private bool Begin(ProbeExchange exchange)
    {
        exchange.Fd = spares.Take(exchange.Address);
        if (exchange.Fd < 0)
        {
            return true;
        }

        return Connect(exchange.Fd, exchange.Address) switch
        {
            0 => SendRest(exchange),
            InProgress => false,
            _ => true,
        };
    }

    /// <summary>Takes the exchange on after its socket became ready; true when it is over.</summary>
    private static bool Advance(ProbeExchange exchange, short events)
    {
        if (exchange.Reading)
        {
            return ReadAll(exchange);
        }

        if (exchange.Sent == 0 && (events & Failed) != 0)
        {
            return true; // refused, unreachable: a connection that failed is told by POLLERR (a send would fail too)
        }

        return SendRest(exchange);
    }

    private static bool SendRest(ProbeExchange exchange)
    {
        var sent = Send(exchange.Fd, exchange.Request.Span[exchange.Sent..]);
        if (sent < 0)
        {
            return sent != -WouldBlock;
        }

        exchange.Sent += sent;
        exchange.Reading = exchange.Sent == exchange.Request.Length;
        return false;
    }

    /// <summary>Reads what is there: the status line first, then the rest of the answer to its end (or 64 KiB).</summary>
    private static bool ReadAll(ProbeExchange exchange)
    {
        var buffer = exchange.Buffer ??= ArrayPool<byte>.Shared.Rent(Buffer);
        while (true)
        {
            var into = exchange.Status is null ? buffer.AsSpan(exchange.Read, Buffer - exchange.Read) : buffer.AsSpan(0, Buffer);
            var n = Receive(exchange.Fd, into);
            if (n < 0)
            {
                return n != -WouldBlock && n != -Interrupted;
            }

            if (n == 0)
            {
                exchange.Passed = exchange.Status is >= 200 and < 400;
                return true;
            }

            exchange.Read += n;
            if (exchange.Status is null)
            {
                exchange.Status = HttpProbe.StatusOf(buffer.AsSpan(0, exchange.Read));
                if (exchange.Status is null && exchange.Read == Buffer)
                {
                    return true; // no status line in the first 4 KiB: not HTTP
                }
            }

            if (exchange.Read >= ReadAtMost)
            {
                exchange.Passed = exchange.Status is >= 200 and < 400;
                return true;
            }
        }
    }
}
