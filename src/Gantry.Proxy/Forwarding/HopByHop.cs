namespace Gantry.Proxy.Forwarding;

/// <summary>Headers that describe one connection and are never forwarded (RFC 9110 7.6.1).</summary>
internal static class HopByHop
{
    private static readonly HashSet<string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
    };

    /// <summary>Headers a client may not set for the upstream: the router writes them itself (or not at all).</summary>
    public static IReadOnlyList<string> Replaced { get; } = ["Forwarded", "X-Real-IP", "X-Gantry-Mirror"];

    public static bool IsHopByHop(string name) => Names.Contains(name);

    /// <summary>True when the Upgrade header asks for cleartext HTTP/2 (h2c).</summary>
    public static bool IsH2c(Microsoft.Extensions.Primitives.StringValues upgrade) =>
        upgrade.Any(v => v is not null && v.Split(',', StringSplitOptions.TrimEntries).Any(t => t.StartsWith("h2c", StringComparison.OrdinalIgnoreCase)));

    /// <summary>True when the Connection header names <paramref name="name"/> as hop-by-hop too.</summary>
    public static bool IsListedIn(string? connection, string name)
    {
        if (string.IsNullOrEmpty(connection))
        {
            return false;
        }

        foreach (var token in connection.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (string.Equals(token, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
