using System.Globalization;
using System.Net;

namespace Gantry.Core.Manifest.Values;

/// <summary>An address to listen on, written <c>127.0.0.1:8080</c>, <c>[::1]:8080</c> or <c>localhost:8080</c>.</summary>
public sealed record Endpoint(string Host, int Port)
{
    public static ParseError? TryParse(string text, out Endpoint? value)
    {
        value = null;
        var s = text.Trim();
        int colon;
        string host;
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= s.Length || s[close + 1] != ':')
            {
                return new ParseError(0, $"expected an address such as [::1]:8080, got '{s}'");
            }

            host = s[1..close];
            colon = close + 1;
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return new ParseError(1, $"'{host}' is not an IPv6 address");
            }
        }
        else
        {
            colon = s.LastIndexOf(':');
            if (colon <= 0)
            {
                return new ParseError(0, $"expected HOST:PORT such as 127.0.0.1:8080, got '{s}'");
            }

            host = s[..colon];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                return new ParseError(0, $"write IPv6 addresses in brackets, such as [::1]:8080, got '{s}'");
            }

            if (!IsHostName(host))
            {
                return new ParseError(0, $"'{host}' is not a valid host name or IPv4 address");
            }
        }

        var portText = s[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return new ParseError(colon + 1, $"the port must be a number from 1 to 65535, got '{portText}'");
        }

        value = new Endpoint(host, port);
        return null;
    }

    private static bool IsHostName(string host) =>
        host.Length <= 253 && host.Split('.').All(label =>
            label.Length is > 0 and <= 63
            && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            && label[0] != '-' && label[^1] != '-');

    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
